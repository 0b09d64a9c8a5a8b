# technique: HOLE (fixed): FINAL_VAR outside code whose __str__ raises killed the worker and the CLI ('rlm: aborted')
# source: found by this corpus
# category: hooks
# expect: ok
# then: FINAL_VAR(x)
class X:
    def __str__(self):
        return 1 / 0
x = X()
