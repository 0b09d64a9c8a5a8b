# technique: __del__ defined in a class body (runs at GC, outside a step)
# source: smolagents issue #2395 (dunder time bombs)
# category: classes
# expect: refused
class Bomb:
    def __del__(self):
        while True:
            pass
b = Bomb()
