# technique: HOLE (fixed): a str subclass whose __len__ says 0 and whose slices return itself slipped a 100 MB FINAL, prompt and printout past every length check
# source: found by this corpus
# category: output
# expect: ok
# final: any
class S(str):
    def __len__(self):
        return 0
    def __getitem__(self, k):
        return self
class Shout:
    def __str__(self):
        return S('w' * 10_000_000)
print(Shout())
try:
    llm_query(S('p' * 10_000_000))
except Exception as e:
    print('refused:', str(e)[:60])
FINDING(S('e' * 5_000_000), 'info', S('s' * 5_000_000))
FINAL(S('q' * 20_000_000))
