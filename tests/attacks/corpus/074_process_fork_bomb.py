# technique: os.fork() loop / multiprocessing / threading
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: process
# expect: refused
import os, multiprocessing, threading
while True:
    os.fork()
