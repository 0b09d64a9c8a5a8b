# technique: class hierarchy walk to subprocess.Popen
# source: smolagents LocalPythonExecutor CVE-2025-9959 (class hierarchy walk to subprocess.Popen)
# category: dunder
# expect: refused
for c in object.__subclasses__():
    if 'Popen' in c.__name__:
        c(['touch', '@@CANARY_OUT@@'])
        print('ESCAPED')
