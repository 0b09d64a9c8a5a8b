# technique: urllib / http.client request to 127.0.0.1
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: network
# expect: refused
import urllib.request
urllib.request.urlopen('http://127.0.0.1:@@PORT@@/')
