"""The local history of finished study sessions (issue 14, "History and progress").

`progress` is the pure core (a finished session, and the arithmetic of minutes per day, streaks
and goals, on the local calendar of a given time zone); `store` is the thin sqlite3 shell that
keeps the sessions on this machine (a versioned schema, WAL, one transaction per write) and
exports them as CSV. Nothing here is ever sent to the server.
"""
