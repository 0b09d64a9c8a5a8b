# technique: endless loop that catches BaseException (the CPU-limit signal too)
# source: McKellar, 'Building and breaking a Python sandbox' (PyCon 2014)
# category: cpu
# expect: restarted
while True:
    try:
        while True:
            pass
    except BaseException:
        pass
