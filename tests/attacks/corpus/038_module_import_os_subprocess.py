# technique: import os / subprocess / socket
# source: smolagents LocalPythonExecutor CVE-2025-9959 (class hierarchy walk to subprocess.Popen)
# category: modules
# expect: refused
import os, subprocess
subprocess.run(['touch', '@@CANARY_OUT@@'])

# payload, if a road above handed out `os`:
fd = os.open('@@CANARY_OUT@@', os.O_CREAT | os.O_WRONLY)
os.system('touch @@CANARY_IN@@')
print('ESCAPED', os.environ.get('@@SECRET_NAME@@'))
