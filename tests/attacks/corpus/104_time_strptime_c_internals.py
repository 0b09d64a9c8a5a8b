# technique: datetime/time C internals: strptime makes C code import _strptime through the sandbox's __import__ after the filesystem is gone; the helper must work and stay out of reach
# source: issue brief (datetime/time C internals)
# category: modules
# expect: ok
import datetime, time
print(datetime.datetime.strptime('2026-11-15 21:07:49', '%Y-%m-%d %H:%M:%S'))
print(time.strptime('15 Nov 2026', '%d %b %Y').tm_yday)
print(datetime.datetime.now().astimezone().tzinfo is not None)
print([n for n in dir(datetime) if 'strptime' in n or n.startswith('_')][:5])
