import CurlHTTP
import Foundation
import HealerKubernetes
import HealerTesting
import Testing

@Suite("Kubernetes connection: in a cluster and from a kubeconfig")
struct ConnectionTests {
    @Test func inAClusterTheServiceAccountIsUsed() throws {
        let directory = try TemporaryDirectory(prefix: "sa")
        defer { directory.remove() }
        _ = try directory.write("token", "abc\n")
        _ = try directory.write("ca.crt", "-----BEGIN CERTIFICATE-----\n")
        _ = try directory.write("namespace", "shop\n")
        let connection = try KubernetesConnection.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"], directory: directory.path)
        #expect(connection.server == "https://10.96.0.1:443")
        #expect(connection.namespace == "shop")
        #expect(connection.tls.caFile == directory.path + "/ca.crt")
        #expect(connection.credentials == .bearerTokenFile(directory.path + "/token"))
        let ipv6 = try KubernetesConnection.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"], directory: directory.path)
        #expect(ipv6.server == "https://[fd00::1]:443")
    }

    @Test func outsideAClusterOrWithoutATokenItSaysWhy() throws {
        let directory = try TemporaryDirectory(prefix: "sa")
        defer { directory.remove() }
        #expect(throws: KubernetesError.self) { try KubernetesConnection.inCluster(environment: [:], directory: directory.path) }
        do throws(KubernetesError) {
            _ = try KubernetesConnection.inCluster(
                environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"], directory: directory.path)
            Issue.record("no token, yet a connection")
        } catch {
            guard case .configuration(let detail) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(detail.contains(directory.path + "/token"))
        }
    }

    @Test func aKubeconfigGivesItsCurrentContext() throws {
        let directory = try TemporaryDirectory(prefix: "kubeconfig")
        defer { directory.remove() }
        let ca = Data("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8).base64EncodedString()
        let path = try directory.write(
            "config",
            """
            apiVersion: v1
            kind: Config
            current-context: prod
            clusters:
            - name: prod-cluster
              cluster:
                server: https://api.prod.example:6443
                certificate-authority-data: \(ca)
            - name: dev-cluster
              cluster:
                server: https://dev.example:6443/
                insecure-skip-tls-verify: true
            users:
            - name: prod-user
              user:
                tokenFile: tokens/prod
            - name: dev-user
              user:
                client-certificate: certs/dev.crt
                client-key: /etc/dev.key
                token: dev-token
            contexts:
            - name: prod
              context: {cluster: prod-cluster, user: prod-user, namespace: shop}
            - name: dev
              context: {cluster: dev-cluster, user: dev-user}
            """)
        let kubeconfig = try Kubeconfig.load(path: path, dataDirectory: directory.path + "/data")
        let prod = try kubeconfig.connection()
        #expect(prod.server == "https://api.prod.example:6443")
        #expect(prod.namespace == "shop")
        #expect(prod.credentials == .bearerTokenFile(directory.path + "/tokens/prod"))
        let caFile = try #require(prod.tls.caFile)
        #expect(try String(contentsOfFile: caFile, encoding: .utf8).hasPrefix("-----BEGIN CERTIFICATE-----"))
        let mode = try FileManager.default.attributesOfItem(atPath: caFile)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let dev = try kubeconfig.connection(context: "dev")
        #expect(dev.server == "https://dev.example:6443")
        #expect(dev.namespace == "default")
        #expect(dev.tls == TLSConfiguration(certificateFile: directory.path + "/certs/dev.crt", keyFile: "/etc/dev.key", insecureSkipVerify: true))
        #expect(dev.credentials == .bearer("dev-token"))
        #expect(throws: KubernetesError.self) { try kubeconfig.connection(context: "staging") }
    }

    @Test func anExecPluginIsReadFromTheKubeconfig() throws {
        let directory = try TemporaryDirectory(prefix: "kubeconfig")
        defer { directory.remove() }
        let path = try directory.write(
            "config",
            """
            current-context: eks
            clusters: [{name: eks, cluster: {server: "https://eks.example"}}]
            contexts: [{name: eks, context: {cluster: eks, user: eks}}]
            users:
            - name: eks
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1beta1
                  command: aws
                  args: [eks, get-token, --cluster-name, prod]
                  env: [{name: AWS_PROFILE, value: ops}]
            """)
        let connection = try Kubeconfig.load(path: path, dataDirectory: directory.path).connection()
        #expect(
            connection.credentials
                == .exec(
                    ExecPlugin(
                        command: "aws", arguments: ["eks", "get-token", "--cluster-name", "prod"], environment: ["AWS_PROFILE": "ops"],
                        apiVersion: "client.authentication.k8s.io/v1beta1")))
    }
}
