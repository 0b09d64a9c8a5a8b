# technique: import ｏｓ normalised to import os
# source: PEP 3131 NFKC identifiers
# category: unicode
# expect: refused
import ｏｓ
ｏｓ.system('touch @@CANARY_OUT@@')
