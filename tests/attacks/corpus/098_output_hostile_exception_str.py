# technique: an exception whose __str__ loops forever while the worker formats the traceback
# source: smolagents issue #2395
# category: hooks
# expect: stopped
class E(Exception):
    def __str__(self):
        while True:
            pass
raise E()
