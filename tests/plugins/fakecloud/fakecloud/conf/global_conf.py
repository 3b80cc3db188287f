# A plugin answers inventory's calls without a token (the upstream plugins' own global_conf
# has no handlers either) and calls nothing.
HANDLERS = {}
CONNECTORS = {}
LOG = {}
