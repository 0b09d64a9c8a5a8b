# technique: HOLE (fixed): FINAL_VAR outside code runs the model's __str__ with no CPU limit; the CLI died with 'internal error: TimeoutError'
# source: found by this corpus; smolagents issue #2395
# category: hooks
# expect: ok
# then: FINAL_VAR(x)
class X:
    def __str__(self):
        while True:
            pass
x = X()
