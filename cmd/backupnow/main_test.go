package main

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/spaceone-pulumi/spaceone/components/backup"
)

// The Job is the one kubectl create job --from makes: the CronJob's template, owned by the
// CronJob, marked as started by hand, named for its start.
func TestTheJobIsTheCronJobsTemplateStartedByHand(t *testing.T) {
	cron := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: backup.CronJob, Namespace: "spaceone", UID: "u1"},
		Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "backup"}, Annotations: map[string]string{"a": "b"}},
			Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "backup", Image: "mongo:6.0.13"}}}}},
		}},
	}
	job := jobFrom(cron, time.Date(2026, 12, 7, 3, 15, 0, 0, time.UTC))
	if job.Name != backup.CronJob+"-20261207-031500" || job.Namespace != "spaceone" {
		t.Errorf("job %s/%s", job.Namespace, job.Name)
	}
	if job.Annotations["cronjob.kubernetes.io/instantiate"] != "manual" || job.Annotations["a"] != "b" || job.Labels["app"] != "backup" {
		t.Errorf("job metadata %+v", job.ObjectMeta)
	}
	if o := job.OwnerReferences; len(o) != 1 || o[0].Kind != "CronJob" || o[0].UID != "u1" || o[0].Controller == nil || !*o[0].Controller {
		t.Errorf("job owners %+v", o)
	}
	if job.Spec.Template.Spec.Containers[0].Image != "mongo:6.0.13" {
		t.Errorf("job spec %+v", job.Spec)
	}
}
