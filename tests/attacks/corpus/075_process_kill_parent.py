# technique: signal the parent: os.kill(os.getppid()), signal.raise_signal
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: process
# expect: refused
import os, signal
os.kill(os.getppid(), signal.SIGKILL)
signal.raise_signal(signal.SIGTERM)
