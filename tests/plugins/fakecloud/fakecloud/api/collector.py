"""inventory.plugin.Collector: init, verify, collect (the collector plugin API of 1.10 and 1.12)."""
import logging

from google.protobuf.empty_pb2 import Empty
from spaceone.api.inventory.plugin import collector_pb2, collector_pb2_grpc
from spaceone.core.error import ERROR_INVALID_ARGUMENT
from spaceone.core.pygrpc import BaseAPI
from spaceone.core.pygrpc.message_type import change_struct_type

from fakecloud import cloud

_LOGGER = logging.getLogger(__name__)


class Collector(BaseAPI, collector_pb2_grpc.CollectorServicer):
    pb2 = collector_pb2
    pb2_grpc = collector_pb2_grpc

    def init(self, request, context):
        params, _ = self.parse_request(request, context)
        _LOGGER.info('[init] options: %s', sorted(params.get('options', {})))
        return self.pb2.PluginInfo(metadata=change_struct_type(cloud.metadata()))

    def verify(self, request, context):
        params, _ = self.parse_request(request, context)
        try:
            cloud.verify(params.get('secret_data', {}))
        except cloud.VerifyError as e:
            raise ERROR_INVALID_ARGUMENT(key='secret_data', reason=str(e))
        return Empty()

    def collect(self, request, context):
        params, _ = self.parse_request(request, context)
        options, secret_data = params.get('options', {}), params.get('secret_data', {})
        region = params.get('task_options', {}).get('region')
        # The secret's keys are logged, never its values: the test greps this log for them.
        _LOGGER.info('[collect] secret data keys %s, options %s, task region %s',
                     sorted(secret_data), options, region)
        count = 0
        for resource_type, resource, match_rules in cloud.resources(options, secret_data, region):
            count += 1
            yield self.pb2.ResourceInfo(
                state='SUCCESS', resource_type=resource_type,
                resource=change_struct_type(resource), match_rules=change_struct_type(match_rules))
        _LOGGER.info('[collect] %d resources', count)
