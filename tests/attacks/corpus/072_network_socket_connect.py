# technique: import socket; connect to a listener on 127.0.0.1
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: network
# expect: refused
import socket
s = socket.create_connection(('127.0.0.1', @@PORT@@))
s.sendall(b'ESCAPED')
