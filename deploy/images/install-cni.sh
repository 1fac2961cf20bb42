#!/bin/sh
# The vrouter-agent DaemonSet's init container: installs weft-cni on the host.
#
# weft-cni is a Node.js program, so it goes with the runtime it needs, into a folder of its own
# beside the other plugins:
#   $CNI_BIN_DIR/weft-cni-<stamp>.d/node   this image's Node.js
#   $CNI_BIN_DIR/weft-cni-<stamp>.d/app/   the plugin and its production dependencies
#   $CNI_BIN_DIR/weft-cni                the executable the runtime calls (a small sh wrapper)
#   $CNI_CONF_DIR/$CNI_CONF_NAME         the network config (from the chart's ConfigMap)
# Each is written beside its final name and renamed into place, so a runtime calling the plugin
# meanwhile runs the old install or the new one, never half of either.
set -eu
: "${CNI_BIN_DIR:=/host/opt/cni/bin}"
: "${CNI_CONF_DIR:=/host/etc/cni/net.d}"
: "${CNI_CONF_NAME:=10-weft.conflist}"
: "${CNI_CONF_SOURCE:=/etc/weft/cni/$CNI_CONF_NAME}"

# The folder the wrapper points at, as the host sees it (the host's /opt/cni/bin).
HOST_BIN_DIR="${HOST_CNI_BIN_DIR:-/opt/cni/bin}"

# A new folder per install; the wrapper switches to it in one rename, then older ones go.
release="weft-cni-$(date +%s)-$$.d"
staging="$CNI_BIN_DIR/.$release"
mkdir -p "$staging"
cp "$(command -v node)" "$staging/node"
cp -a /opt/weft/cni/app "$staging/app"
mv "$staging" "$CNI_BIN_DIR/$release"

cat > "$CNI_BIN_DIR/.weft-cni.new" <<WRAPPER
#!/bin/sh
exec "$HOST_BIN_DIR/$release/node" "$HOST_BIN_DIR/$release/app/dist/main.js" "\$@"
WRAPPER
chmod 0755 "$CNI_BIN_DIR/.weft-cni.new"
mv "$CNI_BIN_DIR/.weft-cni.new" "$CNI_BIN_DIR/weft-cni"
for old in "$CNI_BIN_DIR"/weft-cni-*.d; do
  [ "$old" = "$CNI_BIN_DIR/$release" ] || rm -rf "$old"
done

if [ -f "$CNI_CONF_SOURCE" ]; then
  cp "$CNI_CONF_SOURCE" "$CNI_CONF_DIR/.$CNI_CONF_NAME.new"
  mv "$CNI_CONF_DIR/.$CNI_CONF_NAME.new" "$CNI_CONF_DIR/$CNI_CONF_NAME"
fi
echo "weft-cni installed in $CNI_BIN_DIR, config $CNI_CONF_DIR/$CNI_CONF_NAME"
