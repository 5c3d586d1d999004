"""The window's three screens (lobby, searching, call) and the settings dialog."""
