# technique: exception __traceback__.tb_frame.f_back.f_globals
# source: RestrictedPython PR #255 (inspection frames: tb_frame, gi_frame, f_back)
# category: frames
# expect: refused
try:
    1 / 0
except Exception as e:
    fr = e.__traceback__.tb_frame.f_back
    os = fr.f_globals['os']

# payload, if a road above handed out `os`:
fd = os.open('@@CANARY_OUT@@', os.O_CREAT | os.O_WRONLY)
os.system('touch @@CANARY_IN@@')
print('ESCAPED', os.environ.get('@@SECRET_NAME@@'))
