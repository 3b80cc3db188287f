// Command backupnow is `make backup`: it takes a backup of a stack's data now, as a Job made
// from the stack's backup CronJob (what `kubectl create job --from=cronjob/...` makes), waits
// for it, shows its progress lines and prints the backup's name. scripts/backup.sh gives it
// the stack's cluster, as kubectl's flags, and namespace:
//
//	backupnow [--kubeconfig FILE] [--context NAME] -namespace NS
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/spaceone-pulumi/spaceone/components/backup"
	"github.com/spaceone-pulumi/spaceone/components/volumes"
)

// timeout bounds the wait for the backup Job: a large database takes minutes, never this long.
const timeout = 30 * time.Minute

// progress starts the lines of the backup Job's log that say what it did.
const progress = "spaceone backup: "

func main() {
	kubeconfig := flag.String("kubeconfig", "", "the kubeconfig file (kubectl's default when empty)")
	kubeContext := flag.String("context", "", "the kube context (the file's current one when empty)")
	namespace := flag.String("namespace", "", "the stack's namespace")
	flag.Parse()
	if *namespace == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: backupnow [--kubeconfig FILE] [--context NAME] -namespace NS")
		os.Exit(2)
	}
	client, err := volumes.Client(*kubeconfig, *kubeContext)
	if err == nil {
		err = takeBackup(context.Background(), client, *namespace, os.Stdout, os.Stderr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "backup:", err)
		os.Exit(1)
	}
}

// takeBackup runs the backup Job and prints the backup's name (its log's last line) to out.
func takeBackup(ctx context.Context, client kubernetes.Interface, ns string, out, log io.Writer) error {
	cron, err := client.BatchV1().CronJobs(ns).Get(ctx, backup.CronJob, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return errors.New("the stack has no backup CronJob (backups are made of an in-cluster MongoDB)")
	}
	if err != nil {
		return err
	}
	job, err := client.BatchV1().Jobs(ns).Create(ctx, jobFrom(cron, time.Now()), metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("starting a backup Job: %w", err)
	}
	fmt.Fprintf(log, "backup: job %s started in namespace %s\n", job.Name, ns)
	ok, err := wait(ctx, client, job)
	if err != nil {
		return err
	}
	lines, err := jobLog(ctx, client, job)
	if err != nil {
		return err
	}
	for _, l := range lines {
		if strings.HasPrefix(l, progress) {
			fmt.Fprintln(log, l)
		}
	}
	if !ok || len(lines) == 0 {
		return fmt.Errorf("job %s did not complete; see: kubectl -n %s logs job/%s", job.Name, ns, job.Name)
	}
	_, err = fmt.Fprintln(out, lines[len(lines)-1])
	return err
}

// jobFrom is the Job `kubectl create job --from=cronjob/NAME` makes: the CronJob's template,
// owned by the CronJob, marked as started by hand, named for the time it starts.
func jobFrom(cron *batchv1.CronJob, now time.Time) *batchv1.Job {
	t := cron.Spec.JobTemplate
	annotations := map[string]string{"cronjob.kubernetes.io/instantiate": "manual"}
	for k, v := range t.Annotations {
		annotations[k] = v
	}
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name: backup.CronJob + "-" + now.UTC().Format("20060102-150405"), Namespace: cron.Namespace,
			Labels: t.Labels, Annotations: annotations,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cron, batchv1.SchemeGroupVersion.WithKind("CronJob"))},
		},
		Spec: t.Spec,
	}
}

// wait polls the Job until it completes (true) or fails (false).
func wait(ctx context.Context, client kubernetes.Interface, job *batchv1.Job) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		j, err := client.BatchV1().Jobs(job.Namespace).Get(ctx, job.Name, metav1.GetOptions{})
		if err != nil {
			return false, fmt.Errorf("waiting for job %s: %w", job.Name, err)
		}
		for _, c := range j.Status.Conditions {
			if c.Status == corev1.ConditionTrue && (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) {
				return c.Type == batchv1.JobComplete, nil
			}
		}
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("job %s still runs after %s", job.Name, timeout)
		case <-time.After(2 * time.Second):
		}
	}
}

// jobLog is the log of the Job's last pod, by line.
func jobLog(ctx context.Context, client kubernetes.Interface, job *batchv1.Job) ([]string, error) {
	pods, err := client.CoreV1().Pods(job.Namespace).List(ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + job.Name})
	if err != nil || len(pods.Items) == 0 {
		return nil, fmt.Errorf("the pod of job %s: %v", job.Name, err)
	}
	last := pods.Items[0]
	for _, p := range pods.Items {
		if p.CreationTimestamp.After(last.CreationTimestamp.Time) {
			last = p
		}
	}
	stream, err := client.CoreV1().Pods(job.Namespace).GetLogs(last.Name, &corev1.PodLogOptions{}).Stream(ctx)
	if err != nil {
		return nil, fmt.Errorf("the log of job %s: %w", job.Name, err)
	}
	defer stream.Close()
	var lines []string
	s := bufio.NewScanner(stream)
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		if l := strings.TrimRight(s.Text(), "\r"); l != "" {
			lines = append(lines, l)
		}
	}
	return lines, s.Err()
}
