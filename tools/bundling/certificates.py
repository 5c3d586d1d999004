"""PyInstaller runtime hook: a frozen StudyMatch trusts the public certificate authorities
on any machine, so wss:// works.

The bundle carries the OpenSSL of the machine that built it, which looks for the system's
certificates where *that* system keeps them (Debian: /usr/lib/ssl; python.org's macOS
build: inside its own framework, empty until "Install Certificates" is run). On another
Linux distribution or on a Mac that is nowhere, and every wss:// server would be
refused. SSL_CERT_FILE is OpenSSL's documented way to name the file instead; certifi's
copy of Mozilla's list travels in the bundle. The system's certificate folder
(SSL_CERT_DIR, a school's CA installed there) and on Windows the system store are still
read beside it, and a SSL_CERT_FILE the person set is left alone.
"""

import os

if not os.environ.get("SSL_CERT_FILE"):
    import certifi

    os.environ["SSL_CERT_FILE"] = certifi.where()
