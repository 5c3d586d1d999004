"""Which output plays the partner: the chosen speaker, else the default, and a sentence saying so.

The chooser is pure; the devices are stand-ins with QAudioDevice's three
methods, since this machine has no sound card to list.
"""

from __future__ import annotations

from client import messages
from client.media.audio import choose_output


class _Id:
    def __init__(self, raw: bytes) -> None:
        self._raw = raw

    def data(self) -> bytes:
        return self._raw


class Output:
    """QAudioDevice's description(), id() and isNull()."""

    def __init__(self, name: str, device_id: str = "", null: bool = False) -> None:
        self._name = name
        self._id = device_id or name.lower().replace(" ", "_")
        self._null = null

    def description(self) -> str:
        return self._name

    def id(self) -> _Id:
        return _Id(self._id.encode())

    def isNull(self) -> bool:
        return self._null


SPEAKERS = Output("Laptop Speakers", "alsa_output.pci-0000_00_1f.3.analog-stereo")
HEADSET = Output("USB Headset", "alsa_output.usb-headset")


def test_the_chosen_speaker_by_the_name_the_os_shows() -> None:
    assert choose_output([SPEAKERS, HEADSET], SPEAKERS, "USB Headset") == (HEADSET, None)


def test_the_chosen_speaker_by_device_id() -> None:
    assert choose_output([SPEAKERS, HEADSET], SPEAKERS, "alsa_output.usb-headset") == (HEADSET, None)


def test_no_choice_is_the_system_default_without_a_notice() -> None:
    assert choose_output([SPEAKERS, HEADSET], HEADSET, None) == (HEADSET, None)


def test_an_unplugged_speaker_falls_back_to_the_default_and_says_so() -> None:
    device, notice = choose_output([SPEAKERS], SPEAKERS, "USB Headset")
    assert device is SPEAKERS
    assert notice == messages.SPEAKER_NOT_FOUND.format(name="USB Headset", used="Laptop Speakers")
    assert "USB Headset" in notice and "Laptop Speakers" in notice


def test_without_a_default_the_first_output_plays() -> None:
    no_default = Output("", null=True)
    assert choose_output([HEADSET, SPEAKERS], no_default, None) == (HEADSET, None)
    device, notice = choose_output([HEADSET, SPEAKERS], no_default, "Gone")
    assert device is HEADSET and notice is not None and "Gone" in notice


def test_no_output_at_all_plays_nothing_and_says_so() -> None:
    assert choose_output([], Output("", null=True), "USB Headset") == (None, messages.NO_SPEAKER)
    assert choose_output([], Output("", null=True), None) == (None, messages.NO_SPEAKER)
