"""inventory.plugin.Job (1.12): one collect task for every region of the options."""
import logging

from spaceone.api.inventory.plugin import job_pb2, job_pb2_grpc
from spaceone.core.pygrpc import BaseAPI
from spaceone.core.pygrpc.message_type import change_struct_type

from fakecloud import cloud

_LOGGER = logging.getLogger(__name__)


class Job(BaseAPI, job_pb2_grpc.JobServicer):
    pb2 = job_pb2
    pb2_grpc = job_pb2_grpc

    def get_tasks(self, request, context):
        # One task, not one per region: 1.12's worker runs a collector's tasks at the same time,
        # and on the real node two tasks that finished together left the job IN_PROGRESS for
        # good (both tasks SUCCESS; the job's remained_tasks, which each task decrements with
        # $inc, most likely lost an update in FerretDB, the stand-in for MongoDB).
        params, _ = self.parse_request(request, context)
        regions = cloud.regions(params.get('options', {}))
        _LOGGER.info('[get_tasks] 1 task (regions %s)', regions)
        return self.pb2.TasksInfo(tasks=[
            self.pb2.TaskInfo(task_options=change_struct_type({'regions': regions}))])
