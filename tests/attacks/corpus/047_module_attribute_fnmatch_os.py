# technique: fnmatch.os / typing.sys / dataclasses.sys module attributes
# source: issue brief
# category: modules
# expect: refused
import fnmatch, typing
fnmatch.os.system('touch @@CANARY_OUT@@')
typing.sys.modules['os'].system('touch @@CANARY_OUT@@')
