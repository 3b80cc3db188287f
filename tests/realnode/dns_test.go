package main

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// The node's DNS answers a Service's cluster name with its ClusterIP, and any other name with
// NXDOMAIN at once.
func TestDNSAnswersServiceNames(t *testing.T) {
	client := fake.NewSimpleClientset(&corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "identity", Namespace: "spaceone"},
		Spec:       corev1.ServiceSpec{ClusterIP: "10.0.0.5", Ports: []corev1.ServicePort{{Name: "grpc", Port: 50051}}},
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &Services{NodeIP: "127.0.0.1"}
	s.Start(ctx, client)
	addr, err := s.serveDNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ask := func(name string) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		r, _, err := new(dns.Client).Exchange(m, addr.String())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := ask("identity.spaceone.svc.cluster.local.")
		if len(r.Answer) == 1 && r.Answer[0].(*dns.A).A.String() == "10.0.0.5" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("identity.spaceone.svc.cluster.local: %v", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r := ask("nosuch.spaceone.svc.cluster.local."); r.Rcode != dns.RcodeNameError {
		t.Errorf("an unknown name got rcode %d, want NXDOMAIN", r.Rcode)
	}
}
