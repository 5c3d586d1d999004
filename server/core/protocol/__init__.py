"""The StudyMatch wire contract, version 1: every message, encoded and validated.

Dependency-free on purpose: the server, the desktop client, bots and the
benchmarks all import this one package (`from server.core import protocol as p`),
so a message means the same thing everywhere. `docs/protocol.md` describes the
same contract in prose. `messages.py` holds the messages and error codes,
`wire.py` the validation of every field and the JSON both ways.
"""

from server.core.protocol.messages import (
    ALL_ERROR_CODES as ALL_ERROR_CODES,
)
from server.core.protocol.messages import (
    FATAL_ERROR_CODES as FATAL_ERROR_CODES,
)
from server.core.protocol.messages import (
    LEFT_REASONS as LEFT_REASONS,
)
from server.core.protocol.messages import (
    LENGTHS as LENGTHS,
)
from server.core.protocol.messages import (
    MAX_AVOID_TOKEN_CHARS as MAX_AVOID_TOKEN_CHARS,
)
from server.core.protocol.messages import (
    MAX_AVOID_TOKENS as MAX_AVOID_TOKENS,
)
from server.core.protocol.messages import (
    MAX_CLIENT_CHARS as MAX_CLIENT_CHARS,
)
from server.core.protocol.messages import (
    MAX_FAVOURITES as MAX_FAVOURITES,
)
from server.core.protocol.messages import (
    MAX_ID_CHARS as MAX_ID_CHARS,
)
from server.core.protocol.messages import (
    MAX_INSTALL_CHARS as MAX_INSTALL_CHARS,
)
from server.core.protocol.messages import (
    MAX_MESSAGE_CHARS as MAX_MESSAGE_CHARS,
)
from server.core.protocol.messages import (
    MAX_REASON_CHARS as MAX_REASON_CHARS,
)
from server.core.protocol.messages import (
    MAX_RENDEZVOUS_CHARS as MAX_RENDEZVOUS_CHARS,
)
from server.core.protocol.messages import (
    MAX_TICKET_CHARS as MAX_TICKET_CHARS,
)
from server.core.protocol.messages import (
    MAX_TOKEN_CHARS as MAX_TOKEN_CHARS,
)
from server.core.protocol.messages import (
    MAX_TOPIC_CHARS as MAX_TOPIC_CHARS,
)
from server.core.protocol.messages import (
    MIN_INSTALL_CHARS as MIN_INSTALL_CHARS,
)
from server.core.protocol.messages import (
    MIN_RENDEZVOUS_CHARS as MIN_RENDEZVOUS_CHARS,
)
from server.core.protocol.messages import (
    MINUTE_MS as MINUTE_MS,
)
from server.core.protocol.messages import (
    MODES as MODES,
)
from server.core.protocol.messages import (
    PROTOCOL_VERSION as PROTOCOL_VERSION,
)
from server.core.protocol.messages import (
    TALKS as TALKS,
)
from server.core.protocol.messages import (
    Avoid as Avoid,
)
from server.core.protocol.messages import (
    Avoiding as Avoiding,
)
from server.core.protocol.messages import (
    Cancel as Cancel,
)
from server.core.protocol.messages import (
    ClientMessage as ClientMessage,
)
from server.core.protocol.messages import (
    Counts as Counts,
)
from server.core.protocol.messages import (
    Error as Error,
)
from server.core.protocol.messages import (
    ErrorCode as ErrorCode,
)
from server.core.protocol.messages import (
    Find as Find,
)
from server.core.protocol.messages import (
    Hello as Hello,
)
from server.core.protocol.messages import (
    Idle as Idle,
)
from server.core.protocol.messages import (
    Leave as Leave,
)
from server.core.protocol.messages import (
    Matched as Matched,
)
from server.core.protocol.messages import (
    Message as Message,
)
from server.core.protocol.messages import (
    Mode as Mode,
)
from server.core.protocol.messages import (
    Partner as Partner,
)
from server.core.protocol.messages import (
    PartnerLeft as PartnerLeft,
)
from server.core.protocol.messages import (
    PartnerReconnecting as PartnerReconnecting,
)
from server.core.protocol.messages import (
    PartnerResumed as PartnerResumed,
)
from server.core.protocol.messages import (
    ProtocolError as ProtocolError,
)
from server.core.protocol.messages import (
    Queued as Queued,
)
from server.core.protocol.messages import (
    Replaced as Replaced,
)
from server.core.protocol.messages import (
    Report as Report,
)
from server.core.protocol.messages import (
    Reported as Reported,
)
from server.core.protocol.messages import (
    Resume as Resume,
)
from server.core.protocol.messages import (
    Resumed as Resumed,
)
from server.core.protocol.messages import (
    ServerMessage as ServerMessage,
)
from server.core.protocol.messages import (
    Shutdown as Shutdown,
)
from server.core.protocol.messages import (
    Signal as Signal,
)
from server.core.protocol.messages import (
    Skip as Skip,
)
from server.core.protocol.messages import (
    Study as Study,
)
from server.core.protocol.messages import (
    Ticket as Ticket,
)
from server.core.protocol.messages import (
    Welcome as Welcome,
)
from server.core.protocol.wire import (
    CLIENT_TYPES as CLIENT_TYPES,
)
from server.core.protocol.wire import (
    SERVER_TYPES as SERVER_TYPES,
)
from server.core.protocol.wire import (
    Loads as Loads,
)
from server.core.protocol.wire import (
    decode_client as decode_client,
)
from server.core.protocol.wire import (
    decode_server as decode_server,
)
from server.core.protocol.wire import (
    encode as encode,
)
from server.core.protocol.wire import (
    normalize_topic as normalize_topic,
)
from server.core.protocol.wire import (
    parse_object as parse_object,
)
from server.core.protocol.wire import (
    to_wire as to_wire,
)
