# A plugin answers inventory's calls without a token (the upstream plugins' own global_conf
# has no handlers either) and calls nothing.
HANDLERS = {}
CONNECTORS = {}
# python-core configures its own 'spaceone' logger; this package's goes to the console too.
LOG = {'loggers': {'fakecloud': {'level': 'INFO'}}}
