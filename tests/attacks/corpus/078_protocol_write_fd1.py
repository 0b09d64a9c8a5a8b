# technique: write to fd 1 / fd 2 directly (os.write, sys.__stdout__)
# source: issue brief
# category: protocol
# expect: refused
import os, sys
os.write(1, b'garbage')
sys.__stdout__.write('garbage')
