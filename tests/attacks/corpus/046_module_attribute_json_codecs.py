# technique: json.codecs.open (a module attribute of an allowed module)
# source: issue brief: os via json.codecs-style module attributes
# category: modules
# expect: refused
import json
json.codecs.open('@@CANARY_OUT@@', 'w').write('x')
