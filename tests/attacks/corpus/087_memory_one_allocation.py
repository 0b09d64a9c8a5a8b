# technique: one allocation past the address-space limit
# source: McKellar, 'Building and breaking a Python sandbox' (PyCon 2014)
# category: memory
# expect: error
x = bytearray(3 * 1024**3)
