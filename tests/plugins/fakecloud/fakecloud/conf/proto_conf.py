PROTO = {
    'fakecloud.api.collector': ['Collector'],
}

try:  # 1.12's inventory asks a collector for its tasks first (inventory.plugin.Job)
    from spaceone.api.inventory.plugin import job_pb2  # noqa: F401
    PROTO['fakecloud.api.job'] = ['Job']
except ImportError:
    pass
