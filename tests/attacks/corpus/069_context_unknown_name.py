# technique: context.__getattr__ forwarding: ask for a name outside MODEL_API
# source: issue brief
# category: context
# expect: error
print(context.path)
