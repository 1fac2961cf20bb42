// Names that several services agree on beyond the resource table: the binding that puts an
// interface on a host, and the annotations that name and order a pod's interfaces. Defined here
// once; config-api, control, the lab and the benchmarks import them. (NATS subjects are the
// kit's, beside who may use them: @weft/kit nats-permissions.ts.)

/** Key in virtual_machine_interface_bindings naming the virtual-router the interface is bound to. */
export const HOST_BINDING_KEY = 'host_id';

/** Annotations on a virtual-machine-interface: its name inside the pod, and its place among the pod's interfaces. */
export const INTERFACE_NAME_ANNOTATION = 'weft/interface-name';
export const INTERFACE_ORDER_ANNOTATION = 'weft/interface-order';

/** The value of `key` in a KeyValuePairs property (bindings, annotations), if set. */
export function keyValueOf(pairs: { key_value_pair?: { key?: string; value?: string }[] } | undefined, key: string) {
  return pairs?.key_value_pair?.find((pair) => pair.key === key)?.value;
}
