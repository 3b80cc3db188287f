"""FakeCloud: the cloud this test collector "collects" from.

Every resource it returns is derived from what it was given, so a test can tell that the
secret data and the options reached it through SpaceONE (secret -> inventory -> plugin):
  - the names carry the account id of the secret data;
  - each instance holds a fingerprint of the secret's access key (its SHA-256, first 16 hex
    digits), never the key itself;
  - the regions are the collector's options.regions.
"""
import hashlib

PROVIDER = 'fakecloud'
GROUP, TYPE = 'Compute', 'Instance'
INSTANCES_PER_REGION = 2


class VerifyError(Exception):
    pass


def metadata():
    """What init returns: the resource types it collects and its options' schema."""
    return {
        'supported_resource_type': ['inventory.CloudService', 'inventory.CloudServiceType', 'inventory.Region'],
        'supported_schedules': ['hours'],
        'supported_features': ['garbage_collection'],
        'filter_format': [],
        'options_schema': {
            'type': 'object',
            'properties': {'regions': {'type': 'array', 'items': {'type': 'string'}, 'title': 'Regions'}},
        },
    }


def verify(secret_data):
    """Refuses secret data without an account id and an access key (what collect derives from)."""
    missing = [k for k in ('account_id', 'access_key') if not secret_data.get(k)]
    if missing:
        raise VerifyError(f'secret data lacks {", ".join(missing)}')


def fingerprint(access_key):
    return hashlib.sha256(access_key.encode()).hexdigest()[:16]


def regions(options):
    return options.get('regions') or ['central']


def resources(options, secret_data, region=None):
    """Every resource of the account: its regions, the instance type, the instances.

    Yields (resource_type, resource, match_rules): a cloud service's region and type before
    the cloud service. With a region (a task of one region; the test's 1.12 job has one task
    for all regions, see api/job.py) only that region's resources, and the instance type, which
    all regions share, from the first region's task alone: inventory stores a resource by asking
    whether it exists and then creating it, so two tasks that both return it race, and the one
    that loses fails on the unique index (ERROR_DB_QUERY, E11000 duplicate key; the job ends
    FAILURE: seen on the real node under load)."""
    verify(secret_data)
    account = secret_data['account_id']
    mark = fingerprint(secret_data['access_key'])
    wanted = [region] if region else regions(options)
    for code in wanted:
        yield 'inventory.Region', {
            'name': f'FakeCloud {code}', 'region_code': code, 'provider': PROVIDER,
            'tags': {'account': account},
        }, {'1': ['region_code', 'provider']}
    if region is None or region == regions(options)[0]:
        yield 'inventory.CloudServiceType', {
            'name': TYPE, 'group': GROUP, 'provider': PROVIDER, 'is_primary': True, 'is_major': True,
            'resource_type': 'inventory.CloudService', 'labels': ['Compute'],
            'tags': {'spaceone:icon': ''},
        }, {'1': ['name', 'group', 'provider']}
    for code in wanted:
        for i in range(INSTANCES_PER_REGION):
            instance_id = f'{account}-{code}-vm-{i}'
            yield 'inventory.CloudService', {
                'name': instance_id, 'provider': PROVIDER,
                'cloud_service_group': GROUP, 'cloud_service_type': TYPE,
                'region_code': code, 'account': account,
                'instance_type': 'fake.small',
                'data': {'account_id': account, 'key_fingerprint': mark, 'index': i},
                'reference': {'resource_id': instance_id},
                'tags': {'collected-by': 'fakecloud'},
            }, {'1': ['reference.resource_id', 'provider', 'cloud_service_type', 'cloud_service_group']}
