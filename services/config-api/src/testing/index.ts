// What tests and benchmarks of other packages may use from config-api: a real etcd cluster.
export { type EtcdCluster, type EtcdMember, etcdMissing, startEtcdCluster } from './etcd-cluster.js';
