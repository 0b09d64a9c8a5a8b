# technique: time.sleep(10**6) (no CPU used)
# source: McKellar, 'Building and breaking a Python sandbox' (PyCon 2014)
# category: cpu
# expect: restarted
import time
time.sleep(10**6)
