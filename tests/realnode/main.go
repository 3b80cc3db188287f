// Command realnode is the proving ground's node agent: a kubelet, built on virtual-kubelet,
// that runs every pod scheduled to its node as real processes on this machine. Each image is
// looked up in the runtime table (runtimes.yaml: what stands in for it here, e.g. SpaceONE's
// own Python packages for spaceone/identity, FerretDB for mongo), and run with the pod's
// command, args, env and volumes, in a network and mount namespace of its own, reachable
// by its Services' names and ports. Pod status comes from the processes and the pod's own
// probes; logs are files and `kubectl logs`.
//
//	realnode -kubeconfig K -state DIR -runtimes DIR -standins DIR -plugins DIR [flags]
//	realnode container-init SPEC   (internal: becomes one container's process)
//
// It must run as root inside a network namespace the caller made (the tests: only
// loopback), because it adds a bridge and routes there.
package main

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/virtual-kubelet/virtual-kubelet/node"
	"github.com/virtual-kubelet/virtual-kubelet/node/nodeutil"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

var logWriter io.Writer = os.Stderr

func main() {
	if len(os.Args) == 3 && os.Args[1] == "container-init" {
		if err := containerInit(os.Args[2]); err != nil {
			fmt.Fprintf(os.Stderr, "realnode container-init: %v\n", err)
			os.Exit(127)
		}
		return
	}
	if err := serve(); err != nil {
		log.Fatalf("realnode: %v", err)
	}
}

func serve() error {
	var (
		kubeconfig = flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the cluster")
		nodeName   = flag.String("node-name", "real-node-0", "name of the node to register")
		nodeIP     = flag.String("node-ip", "127.0.0.1", "the node's address (kubelet API, NodePorts)")
		port       = flag.Int("port", 10251, "kubelet API port (logs, port-forward)")
		tlsCert    = flag.String("tls-cert", "", "kubelet API serving certificate")
		tlsKey     = flag.String("tls-key", "", "kubelet API serving key")
		state      = flag.String("state", "", "scratch directory for pods (required)")
		logs       = flag.String("logs", "", "directory for container logs (default STATE/logs)")
		runtimes   = flag.String("runtimes", "", "runtime root installed by scripts/runtimes.sh (required)")
		standins   = flag.String("standins", "", "the stand-in scripts directory (tests/realnode/standins)")
		plugins    = flag.String("plugins", "", "the test plugins' code (tests/plugins)")
		regPort    = flag.Int("registry-port", 5000, "port of the stand-in registry on the pods' gateway (its images: @registry/... in the table)")
		tableFile  = flag.String("table", "", "runtime table (default: the embedded runtimes.yaml)")
		imagesFile = flag.String("images", "", "more image runtimes in the table's form (the tests write what the catalogue deploys); the table's own entries win")
		podCIDR    = flag.String("pod-cidr", "10.245.0.0/16", "pod address range of this node")
		svcCIDR    = flag.String("service-cidr", "10.0.0.0/24", "the API server's --service-cluster-ip-range")
	)
	flag.Parse()
	if *state == "" || *runtimes == "" {
		return fmt.Errorf("-state and -runtimes are required")
	}
	data := defaultTable
	if *tableFile != "" {
		b, err := os.ReadFile(*tableFile)
		if err != nil {
			return err
		}
		data = b
	}
	podNet, err := netip.ParsePrefix(*podCIDR)
	if err != nil {
		return fmt.Errorf("-pod-cidr: %w", err)
	}
	// The registry listens on the pods' gateway (the bridge's address), which pods reach.
	registry := net.JoinHostPort(podNet.Addr().Next().String(), fmt.Sprint(*regPort))
	hubCA := filepath.Join(*state, "dockerhub-ca.pem")
	src := Sources{Standins: *standins, Plugins: *plugins, HubCA: hubCA, Registry: registry}
	table, err := LoadTable(data, *runtimes, src)
	if err != nil {
		return err
	}
	if *imagesFile != "" {
		b, err := os.ReadFile(*imagesFile)
		if err != nil {
			return err
		}
		more, err := LoadTable(b, *runtimes, src)
		if err != nil {
			return fmt.Errorf("-images: %w", err)
		}
		table.Add(more)
	}
	svcNet, err := netip.ParsePrefix(*svcCIDR)
	if err != nil {
		return fmt.Errorf("-service-cidr: %w", err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	apiHost := cfg.Host
	if u, err := netip.ParseAddrPort(trimScheme(apiHost)); err == nil {
		apiHost = u.String()
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	logDir := *logs
	if logDir == "" {
		logDir = filepath.Join(*state, "logs")
	}
	for _, d := range []string{*state, logDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	sum := sha1.Sum([]byte(*state))
	network := &Network{Bridge: "rnbr" + hex.EncodeToString(sum[:2]), Prefix: podNet, ServiceNet: svcNet, Tag: hex.EncodeToString(sum[:1])}
	if err := network.Setup(); err != nil {
		return fmt.Errorf("node network: %w", err)
	}
	defer network.Teardown()

	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	services := &Services{NodeIP: *nodeIP, APIServer: apiHost, Internet: map[string]string{DockerHub: network.Gateway().String()}}
	services.Start(ctx, client)
	if _, err := services.serveDNS(net.JoinHostPort(network.Gateway().String(), "53")); err != nil {
		return fmt.Errorf("node DNS: %w", err)
	}
	if err := serveRegistry(registry, table); err != nil {
		return fmt.Errorf("node registry: %w", err)
	}
	if err := serveDockerHub(net.JoinHostPort(network.Gateway().String(), "443"), hubCA, table); err != nil {
		return fmt.Errorf("node's Docker Hub: %w", err)
	}
	agent := &Agent{Client: client, Table: table, Net: network, Services: services, NodeIP: *nodeIP,
		StateDir: filepath.Join(*state, "pods"), LogDir: logDir, Self: self, pods: map[string]*podRun{}}
	defer agent.StopAll()

	mux := http.NewServeMux()
	mux.HandleFunc("GET "+ProcessesPath, agent.serveProcesses)
	opts := []nodeutil.NodeOpt{
		nodeutil.WithClient(client),
		func(c *nodeutil.NodeConfig) error {
			c.HTTPListenAddr = net.JoinHostPort(*nodeIP, fmt.Sprint(*port))
			c.Handler = mux
			c.NumWorkers = 16 // pods start and stop in parallel (a stop waits out its grace period)
			c.InformerResyncPeriod = 30 * time.Second
			n := &c.NodeSpec
			n.Labels["kubernetes.io/os"] = "linux"
			n.Labels["kubernetes.io/arch"] = "amd64"
			n.Labels["spaceone.dev/real-node"] = "true"
			res := corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("32"), corev1.ResourceMemory: resource.MustParse("256Gi"),
				corev1.ResourcePods: resource.MustParse("110"), corev1.ResourceEphemeralStorage: resource.MustParse("1Ti"),
			}
			n.Status.Capacity, n.Status.Allocatable = res, res
			n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: *nodeIP}, {Type: corev1.NodeHostName, Address: *nodeName}}
			n.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(*port)
			n.Status.NodeInfo = corev1.NodeSystemInfo{OperatingSystem: "linux", Architecture: "amd64", KubeletVersion: "realnode"}
			n.Spec.PodCIDR = podNet.String()
			return nil
		},
		nodeutil.AttachProviderRoutes(mux),
	}
	if *tlsCert != "" {
		opts = append(opts, nodeutil.WithTLSConfig(nodeutil.WithKeyPairFromPath(*tlsCert, *tlsKey)))
	}
	n, err := nodeutil.NewNode(*nodeName, func(pc nodeutil.ProviderConfig) (nodeutil.Provider, node.NodeProvider, error) {
		return agent, nil, nil
	}, opts...)
	if err != nil {
		return err
	}
	go func() {
		if err := n.Run(ctx); err != nil && ctx.Err() == nil {
			log.Printf("node: %v", err)
			cancel()
		}
	}()
	if err := n.WaitReady(ctx, time.Minute); err != nil {
		return fmt.Errorf("node %s did not become ready: %w", *nodeName, err)
	}
	log.Printf("node %s ready (pods %s, services %s, kubelet API %s:%d)", *nodeName, podNet, svcNet, *nodeIP, *port)
	<-ctx.Done()
	log.Printf("stopping: every pod's processes, then the node network")
	agent.StopAll()
	dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer dcancel()
	client.CoreV1().Nodes().Delete(dctx, *nodeName, metav1.DeleteOptions{})
	return nil
}

func trimScheme(h string) string {
	for _, p := range []string{"https://", "http://"} {
		if len(h) > len(p) && h[:len(p)] == p {
			return h[len(p):]
		}
	}
	return h
}
