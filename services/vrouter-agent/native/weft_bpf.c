/* The native side of the vrouter-agent's datapath: a thin N-API layer over libbpf. It opens and
 * loads BPF objects with their maps pinned (so a restarted agent reuses them), reads and writes
 * maps in batches (one call across the JS boundary per batch), and runs programs through
 * BPF_PROG_TEST_RUN for tests and benchmarks. Policy lives in TypeScript; this file only moves
 * bytes and reports errno. */
#define NAPI_VERSION 8
#include <node_api.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(call)                                                                               \
	do {                                                                                      \
		if ((call) != napi_ok) {                                                          \
			napi_throw_error(env, "WEFT_NAPI", "N-API call failed: " #call);          \
			return NULL;                                                              \
		}                                                                                 \
	} while (0)

/* Throws an Error whose code is the errno name's number and whose message says what failed. */
static napi_value throw_errno(napi_env env, const char *what, int err)
{
	char message[4608];
	char code[32];
	if (err < 0)
		err = -err;
	snprintf(message, sizeof(message), "%s: %s (errno %d)", what, strerror(err), err);
	snprintf(code, sizeof(code), "BPF_E%d", err);
	napi_throw_error(env, code, message);
	return NULL;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv)
{
	size_t argc = want;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
		napi_throw_type_error(env, "WEFT_ARGS", "too few arguments");
		return -1;
	}
	return 0;
}

static int get_u32(napi_env env, napi_value value, uint32_t *out)
{
	return napi_get_value_uint32(env, value, out) == napi_ok ? 0 : -1;
}

static int get_buffer(napi_env env, napi_value value, void **data, size_t *len)
{
	bool is_buffer = false;
	if (napi_is_buffer(env, value, &is_buffer) != napi_ok || !is_buffer)
		return -1;
	return napi_get_buffer_info(env, value, data, len) == napi_ok ? 0 : -1;
}

static int get_string(napi_env env, napi_value value, char *out, size_t size)
{
	size_t len;
	return napi_get_value_string_utf8(env, value, out, size, &len) == napi_ok ? 0 : -1;
}

static napi_value make_u32(napi_env env, uint32_t v)
{
	napi_value out;
	napi_create_uint32(env, v, &out);
	return out;
}

static napi_value make_i32(napi_env env, int32_t v)
{
	napi_value out;
	napi_create_int32(env, v, &out);
	return out;
}

static napi_value make_string(napi_env env, const char *s)
{
	napi_value out;
	napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &out);
	return out;
}

static void set(napi_env env, napi_value obj, const char *name, napi_value value)
{
	napi_set_named_property(env, obj, name, value);
}

/* libbpf prints its own diagnostics (verifier log included) to stderr; keep that, it is what
 * someone debugging a refused program needs. */
static int libbpf_print(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, format, args);
}

static int map_type(int fd, struct bpf_map_info *info);

static void object_finalize(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)hint;
	/* Closed explicitly by closeObject, or here when the handle is collected. */
	struct bpf_object **slot = data;
	if (*slot)
		bpf_object__close(*slot);
	free(slot);
}

/* libbpf 1.1 refuses to reuse a pinned device map: the kernel adds BPF_F_RDONLY_PROG to the
 * flags of every device map, and libbpf compares flags with the ELF definition, which cannot
 * carry that flag (the kernel rejects it at creation). Later libbpf versions mask the flag; until
 * Debian ships one, device maps are adopted here with the same checks minus that flag. */
static int reuse_pinned_device_maps(struct bpf_object *obj)
{
	struct bpf_map *map;
	bpf_object__for_each_map(map, obj)
	{
		enum bpf_map_type type = bpf_map__type(map);
		const char *pin = bpf_map__pin_path(map);
		if (!pin || (type != BPF_MAP_TYPE_DEVMAP && type != BPF_MAP_TYPE_DEVMAP_HASH))
			continue;
		int fd = bpf_obj_get(pin);
		if (fd < 0) {
			if (errno == ENOENT)
				continue; /* not pinned yet: libbpf creates and pins it */
			return -errno;
		}
		struct bpf_map_info info;
		int err = map_type(fd, &info);
		if (!err && (info.type != type || info.key_size != bpf_map__key_size(map) ||
			     info.value_size != bpf_map__value_size(map) ||
			     info.max_entries != bpf_map__max_entries(map))) {
			fprintf(stderr, "libbpf: map '%s': pinned map at '%s' has another layout\n", bpf_map__name(map), pin);
			err = -EINVAL;
		}
		if (!err)
			err = bpf_map__reuse_fd(map, fd);
		close(fd);
		if (err)
			return err;
		/* Already pinned: keep libbpf from checking and pinning it again. */
		bpf_map__set_pin_path(map, NULL);
	}
	return 0;
}

/* openObject(path, pinRoot) → { handle, programs: [{name, fd}], maps: [{name, fd, type, keySize,
 * valueSize, maxEntries}] }. Maps declared with LIBBPF_PIN_BY_NAME are reused from pinRoot when
 * pinned there with the same layout, else created and pinned; a pinned map whose layout differs
 * makes the load fail rather than be reused. */
static napi_value open_object(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	char path[4096], pin_root[4096];
	if (get_args(env, info, 2, argv) || get_string(env, argv[0], path, sizeof(path)) ||
	    get_string(env, argv[1], pin_root, sizeof(pin_root))) {
		napi_throw_type_error(env, "WEFT_ARGS", "openObject(path: string, pinRoot: string)");
		return NULL;
	}
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_root);
	struct bpf_object *obj = bpf_object__open_file(path, &opts);
	if (!obj)
		return throw_errno(env, "bpf_object__open_file", errno);
	int err = reuse_pinned_device_maps(obj);
	if (!err)
		err = bpf_object__load(obj);
	if (err) {
		bpf_object__close(obj);
		return throw_errno(env, "bpf_object__load", err);
	}
	struct bpf_object **slot = malloc(sizeof(*slot));
	*slot = obj;
	napi_value result, handle, programs, maps;
	CHECK(napi_create_object(env, &result));
	CHECK(napi_create_external(env, slot, object_finalize, NULL, &handle));
	CHECK(napi_create_array(env, &programs));
	CHECK(napi_create_array(env, &maps));
	uint32_t i = 0;
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, obj)
	{
		napi_value p;
		CHECK(napi_create_object(env, &p));
		set(env, p, "name", make_string(env, bpf_program__name(prog)));
		set(env, p, "fd", make_i32(env, bpf_program__fd(prog)));
		CHECK(napi_set_element(env, programs, i++, p));
	}
	i = 0;
	struct bpf_map *map;
	bpf_object__for_each_map(map, obj)
	{
		napi_value m;
		CHECK(napi_create_object(env, &m));
		set(env, m, "name", make_string(env, bpf_map__name(map)));
		set(env, m, "fd", make_i32(env, bpf_map__fd(map)));
		set(env, m, "type", make_u32(env, bpf_map__type(map)));
		set(env, m, "keySize", make_u32(env, bpf_map__key_size(map)));
		set(env, m, "valueSize", make_u32(env, bpf_map__value_size(map)));
		set(env, m, "maxEntries", make_u32(env, bpf_map__max_entries(map)));
		const char *pin = bpf_map__pin_path(map);
		set(env, m, "pinPath", make_string(env, pin ? pin : ""));
		CHECK(napi_set_element(env, maps, i++, m));
	}
	set(env, result, "handle", handle);
	set(env, result, "programs", programs);
	set(env, result, "maps", maps);
	return result;
}

/* closeObject(handle): closes the object's fds; pinned maps and programs stay in the kernel. */
static napi_value close_object(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	struct bpf_object **slot;
	if (get_args(env, info, 1, argv) || napi_get_value_external(env, argv[0], (void **)&slot) != napi_ok) {
		napi_throw_type_error(env, "WEFT_ARGS", "closeObject(handle)");
		return NULL;
	}
	if (*slot) {
		bpf_object__close(*slot);
		*slot = NULL;
	}
	return NULL;
}

static int batch_capable(uint32_t type)
{
	switch (type) {
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		return 1;
	default:
		return 0;
	}
}

static int map_type(int fd, struct bpf_map_info *info)
{
	uint32_t len = sizeof(*info);
	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len);
}

/* mapUpdate(fd, keys, values, count, flags) → count. keys and values are the entries packed
 * back to back. Hash and array maps take one bpf() call (BPF_MAP_UPDATE_BATCH); others, such as
 * the LPM trie and the device map, which the kernel cannot batch, one call per entry. */
static napi_value map_update(napi_env env, napi_callback_info info)
{
	napi_value argv[5];
	uint32_t fd, count, flags;
	void *keys, *values;
	size_t keys_len, values_len;
	if (get_args(env, info, 5, argv) || get_u32(env, argv[0], &fd) || get_buffer(env, argv[1], &keys, &keys_len) ||
	    get_buffer(env, argv[2], &values, &values_len) || get_u32(env, argv[3], &count) ||
	    get_u32(env, argv[4], &flags)) {
		napi_throw_type_error(env, "WEFT_ARGS", "mapUpdate(fd, keys: Buffer, values: Buffer, count, flags)");
		return NULL;
	}
	if (count == 0)
		return make_u32(env, 0);
	struct bpf_map_info minfo;
	if (map_type(fd, &minfo))
		return throw_errno(env, "bpf_map_get_info_by_fd", errno);
	size_t key_size = keys_len / count, value_size = values_len / count;
	if (key_size * count != keys_len || value_size * count != values_len || key_size != minfo.key_size) {
		napi_throw_range_error(env, "WEFT_ARGS", "mapUpdate: keys/values length is not count entries of the map's sizes");
		return NULL;
	}
	if (batch_capable(minfo.type)) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = flags);
		uint32_t done = count;
		if (bpf_map_update_batch(fd, keys, values, &done, &opts))
			return throw_errno(env, "bpf_map_update_batch", errno);
		return make_u32(env, done);
	}
	for (uint32_t i = 0; i < count; i++) {
		if (bpf_map_update_elem(fd, (char *)keys + i * key_size, (char *)values + i * value_size, flags)) {
			char what[96];
			snprintf(what, sizeof(what), "bpf_map_update_elem (entry %u of %u)", i, count);
			return throw_errno(env, what, errno);
		}
	}
	return make_u32(env, count);
}

/* mapDelete(fd, keys, count) → how many existed. Keys that are absent are not an error: a
 * delete converges on "not there". */
static napi_value map_delete(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	uint32_t fd, count;
	void *keys;
	size_t keys_len;
	if (get_args(env, info, 3, argv) || get_u32(env, argv[0], &fd) || get_buffer(env, argv[1], &keys, &keys_len) ||
	    get_u32(env, argv[2], &count)) {
		napi_throw_type_error(env, "WEFT_ARGS", "mapDelete(fd, keys: Buffer, count)");
		return NULL;
	}
	if (count == 0)
		return make_u32(env, 0);
	size_t key_size = keys_len / count;
	uint32_t deleted = 0;
	for (uint32_t i = 0; i < count; i++) {
		if (bpf_map_delete_elem(fd, (char *)keys + i * key_size) == 0)
			deleted++;
		else if (errno != ENOENT)
			return throw_errno(env, "bpf_map_delete_elem", errno);
	}
	return make_u32(env, deleted);
}

/* mapLookup(fd, key, valueSize) → Buffer or null. For per-CPU maps valueSize is the whole
 * per-CPU array (value size rounded up to 8, times the possible CPUs). */
static napi_value map_lookup(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	uint32_t fd, value_size;
	void *key;
	size_t key_len;
	if (get_args(env, info, 3, argv) || get_u32(env, argv[0], &fd) || get_buffer(env, argv[1], &key, &key_len) ||
	    get_u32(env, argv[2], &value_size)) {
		napi_throw_type_error(env, "WEFT_ARGS", "mapLookup(fd, key: Buffer, valueSize)");
		return NULL;
	}
	void *value;
	napi_value out;
	CHECK(napi_create_buffer(env, value_size, &value, &out));
	if (bpf_map_lookup_elem(fd, key, value)) {
		if (errno == ENOENT) {
			napi_get_null(env, &out);
			return out;
		}
		return throw_errno(env, "bpf_map_lookup_elem", errno);
	}
	return out;
}

/* mapDump(fd, keySize, valueSize) → { keys, values, count }: every entry, packed back to back. */
static napi_value map_dump(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	uint32_t fd, key_size, value_size;
	if (get_args(env, info, 3, argv) || get_u32(env, argv[0], &fd) || get_u32(env, argv[1], &key_size) ||
	    get_u32(env, argv[2], &value_size)) {
		napi_throw_type_error(env, "WEFT_ARGS", "mapDump(fd, keySize, valueSize)");
		return NULL;
	}
	size_t cap = 64, count = 0;
	char *keys = malloc(cap * key_size), *values = malloc(cap * value_size);
	char *prev = malloc(key_size);
	int have_prev = 0, err = 0;
	for (;;) {
		if (count == cap) {
			cap *= 2;
			keys = realloc(keys, cap * key_size);
			values = realloc(values, cap * value_size);
		}
		char *key = keys + count * key_size;
		if (bpf_map_get_next_key(fd, have_prev ? prev : NULL, key)) {
			if (errno != ENOENT)
				err = errno;
			break;
		}
		memcpy(prev, key, key_size);
		have_prev = 1;
		if (bpf_map_lookup_elem(fd, key, values + count * value_size)) {
			/* Deleted between the two calls (an LRU eviction): not an entry any more. */
			if (errno == ENOENT)
				continue;
			err = errno;
			break;
		}
		count++;
	}
	free(prev);
	if (err) {
		free(keys);
		free(values);
		return throw_errno(env, "mapDump", err);
	}
	napi_value result, kbuf, vbuf;
	CHECK(napi_create_object(env, &result));
	CHECK(napi_create_buffer_copy(env, count * key_size, keys, NULL, &kbuf));
	CHECK(napi_create_buffer_copy(env, count * value_size, values, NULL, &vbuf));
	free(keys);
	free(values);
	set(env, result, "keys", kbuf);
	set(env, result, "values", vbuf);
	set(env, result, "count", make_u32(env, (uint32_t)count));
	return result;
}

/* testRun(progFd, data, repeat, ctxIn|null, dataOutSize) → { retval, data, duration }: one
 * BPF_PROG_TEST_RUN. duration is the kernel's mean nanoseconds per run over `repeat`. */
static napi_value test_run(napi_env env, napi_callback_info info)
{
	napi_value argv[5];
	uint32_t fd, repeat, out_size;
	void *data, *ctx_in = NULL;
	size_t data_len, ctx_len = 0;
	if (get_args(env, info, 5, argv) || get_u32(env, argv[0], &fd) || get_buffer(env, argv[1], &data, &data_len) ||
	    get_u32(env, argv[2], &repeat) || get_u32(env, argv[4], &out_size)) {
		napi_throw_type_error(env, "WEFT_ARGS", "testRun(progFd, data: Buffer, repeat, ctxIn: Buffer|null, dataOutSize)");
		return NULL;
	}
	napi_valuetype ctx_type;
	napi_typeof(env, argv[3], &ctx_type);
	if (ctx_type != napi_null && ctx_type != napi_undefined && get_buffer(env, argv[3], &ctx_in, &ctx_len)) {
		napi_throw_type_error(env, "WEFT_ARGS", "testRun: ctxIn must be a Buffer or null");
		return NULL;
	}
	void *out = malloc(out_size);
	void *ctx_out = ctx_len ? malloc(ctx_len) : NULL;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data, .data_size_in = data_len, .data_out = out,
		    .data_size_out = out_size, .ctx_in = ctx_in, .ctx_size_in = ctx_len, .ctx_out = ctx_out,
		    .ctx_size_out = ctx_len, .repeat = repeat);
	int err = bpf_prog_test_run_opts(fd, &opts);
	if (err) {
		free(out);
		free(ctx_out);
		return throw_errno(env, "bpf_prog_test_run_opts", errno);
	}
	napi_value result, out_buf;
	CHECK(napi_create_object(env, &result));
	CHECK(napi_create_buffer_copy(env, opts.data_size_out, out, NULL, &out_buf));
	free(out);
	free(ctx_out);
	set(env, result, "retval", make_u32(env, opts.retval));
	set(env, result, "data", out_buf);
	set(env, result, "duration", make_u32(env, opts.duration));
	return result;
}

/* sendFrames(progFd, frame, count, ifindex): BPF_PROG_TEST_RUN in live-frames mode (Linux
 * 5.18+). The XDP program runs `count` times on copies of `frame` as if it arrived on ifindex,
 * and what it returns happens for real: XDP_TX sends the frame out of that device. A program
 * that always returns XDP_TX turns this into a traffic generator at the kernel's own speed. */
static napi_value send_frames(napi_env env, napi_callback_info info)
{
	napi_value argv[4];
	uint32_t fd, count, ifindex;
	void *data;
	size_t data_len;
	if (get_args(env, info, 4, argv) || get_u32(env, argv[0], &fd) || get_buffer(env, argv[1], &data, &data_len) ||
	    get_u32(env, argv[2], &count) || get_u32(env, argv[3], &ifindex)) {
		napi_throw_type_error(env, "WEFT_ARGS", "sendFrames(progFd, frame: Buffer, count, ifindex)");
		return NULL;
	}
	struct xdp_md ctx = {.data = 0, .data_end = (uint32_t)data_len, .ingress_ifindex = ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data, .data_size_in = data_len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = count, .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);
	if (bpf_prog_test_run_opts(fd, &opts))
		return throw_errno(env, "bpf_prog_test_run_opts (live frames)", errno);
	napi_value out;
	napi_get_undefined(env, &out);
	return out;
}

/* possibleCpus() → the count per-CPU map values are laid out for. */
static napi_value possible_cpus(napi_env env, napi_callback_info info)
{
	(void)info;
	int n = libbpf_num_possible_cpus();
	if (n < 0)
		return throw_errno(env, "libbpf_num_possible_cpus", n);
	return make_u32(env, n);
}

/* objGet(path) → fd of a pinned map or program. */
static napi_value obj_get(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	char path[4096];
	if (get_args(env, info, 1, argv) || get_string(env, argv[0], path, sizeof(path))) {
		napi_throw_type_error(env, "WEFT_ARGS", "objGet(path: string)");
		return NULL;
	}
	int fd = bpf_obj_get(path);
	if (fd < 0)
		return throw_errno(env, path, errno);
	return make_i32(env, fd);
}

/* objPin(fd, path): pins a program or map, so it outlives this process. */
static napi_value obj_pin(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	uint32_t fd;
	char path[4096];
	if (get_args(env, info, 2, argv) || get_u32(env, argv[0], &fd) || get_string(env, argv[1], path, sizeof(path))) {
		napi_throw_type_error(env, "WEFT_ARGS", "objPin(fd, path: string)");
		return NULL;
	}
	if (bpf_obj_pin(fd, path))
		return throw_errno(env, path, errno);
	return NULL;
}

/* closeFd(fd) */
static napi_value close_fd(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	uint32_t fd;
	if (get_args(env, info, 1, argv) || get_u32(env, argv[0], &fd)) {
		napi_throw_type_error(env, "WEFT_ARGS", "closeFd(fd)");
		return NULL;
	}
	close(fd);
	return NULL;
}

/* programInfo(fd) → { id, name, type }: what a pinned program is, for adoption and cleanup. */
static napi_value program_info(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	uint32_t fd;
	if (get_args(env, info, 1, argv) || get_u32(env, argv[0], &fd)) {
		napi_throw_type_error(env, "WEFT_ARGS", "programInfo(fd)");
		return NULL;
	}
	struct bpf_prog_info pinfo;
	uint32_t len = sizeof(pinfo);
	memset(&pinfo, 0, sizeof(pinfo));
	if (bpf_obj_get_info_by_fd(fd, &pinfo, &len))
		return throw_errno(env, "bpf_prog_get_info_by_fd", errno);
	napi_value result;
	CHECK(napi_create_object(env, &result));
	set(env, result, "id", make_u32(env, pinfo.id));
	set(env, result, "name", make_string(env, pinfo.name));
	set(env, result, "type", make_u32(env, pinfo.type));
	return result;
}

/* programInfoById(id) → { id, name, type, mapIds } or null when no such program: what a device
 * runs, and which maps it uses (so cleanup can tell this host's programs from another's). */
static napi_value program_info_by_id(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	uint32_t id;
	if (get_args(env, info, 1, argv) || get_u32(env, argv[0], &id)) {
		napi_throw_type_error(env, "WEFT_ARGS", "programInfoById(id)");
		return NULL;
	}
	int fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0) {
		if (errno == ENOENT) {
			napi_value null;
			napi_get_null(env, &null);
			return null;
		}
		return throw_errno(env, "bpf_prog_get_fd_by_id", errno);
	}
	struct bpf_prog_info pinfo;
	uint32_t len = sizeof(pinfo);
	memset(&pinfo, 0, sizeof(pinfo));
	int err = bpf_obj_get_info_by_fd(fd, &pinfo, &len);
	uint32_t map_ids[64] = {0};
	uint32_t nr_maps = pinfo.nr_map_ids < 64 ? pinfo.nr_map_ids : 64;
	if (!err && nr_maps) {
		char name[sizeof(pinfo.name)];
		memcpy(name, pinfo.name, sizeof(name));
		memset(&pinfo, 0, sizeof(pinfo));
		pinfo.nr_map_ids = nr_maps;
		pinfo.map_ids = (uint64_t)(unsigned long)map_ids;
		len = sizeof(pinfo);
		err = bpf_obj_get_info_by_fd(fd, &pinfo, &len);
		memcpy(pinfo.name, name, sizeof(name));
	}
	close(fd);
	if (err)
		return throw_errno(env, "bpf_prog_get_info_by_fd", errno);
	napi_value result, ids;
	CHECK(napi_create_object(env, &result));
	CHECK(napi_create_array(env, &ids));
	for (uint32_t i = 0; i < nr_maps; i++)
		CHECK(napi_set_element(env, ids, i, make_u32(env, map_ids[i])));
	set(env, result, "id", make_u32(env, pinfo.id));
	set(env, result, "name", make_string(env, pinfo.name));
	set(env, result, "type", make_u32(env, pinfo.type));
	set(env, result, "mapIds", ids);
	return result;
}

/* mapId(fd) → the kernel's id of a map. */
static napi_value map_id(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	uint32_t fd;
	if (get_args(env, info, 1, argv) || get_u32(env, argv[0], &fd)) {
		napi_throw_type_error(env, "WEFT_ARGS", "mapId(fd)");
		return NULL;
	}
	struct bpf_map_info minfo;
	if (map_type(fd, &minfo))
		return throw_errno(env, "bpf_map_get_info_by_fd", errno);
	return make_u32(env, minfo.id);
}

/* TC programs at a device's ingress hook (clsact), through libbpf's netlink calls, in the
 * caller's network namespace. One filter per device (handle 1, priority 1), replaced in place
 * so a new program takes over without a gap. */
static int tc_args(napi_env env, napi_callback_info info, size_t want, uint32_t *ifindex, uint32_t *fd)
{
	napi_value argv[2];
	if (get_args(env, info, want, argv) || get_u32(env, argv[0], ifindex) || (want > 1 && get_u32(env, argv[1], fd))) {
		napi_throw_type_error(env, "WEFT_ARGS", want > 1 ? "tcAttach(ifindex, progFd)" : "tc(ifindex)");
		return -1;
	}
	return 0;
}

/* tcAttach(ifindex, progFd): the program at the device's TC ingress, direct action. */
static napi_value tc_attach(napi_env env, napi_callback_info info)
{
	uint32_t ifindex, fd = 0;
	if (tc_args(env, info, 2, &ifindex, &fd))
		return NULL;
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	int err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return throw_errno(env, "bpf_tc_hook_create", err);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1, .prog_fd = fd, .flags = BPF_TC_F_REPLACE);
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		return throw_errno(env, "bpf_tc_attach", err);
	return NULL;
}

/* tcDetach(ifindex): removes the filter; a device without one is fine. */
static napi_value tc_detach(napi_env env, napi_callback_info info)
{
	uint32_t ifindex, fd = 0;
	if (tc_args(env, info, 1, &ifindex, &fd))
		return NULL;
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);
	libbpf_print_fn_t print = libbpf_set_print(NULL);
	int err = bpf_tc_detach(&hook, &opts);
	libbpf_set_print(print);
	if (err && err != -ENOENT && err != -EINVAL)
		return throw_errno(env, "bpf_tc_detach", err);
	return NULL;
}

/* tcQuery(ifindex) → id of the program at the device's TC ingress, or 0. */
static napi_value tc_query(napi_env env, napi_callback_info info)
{
	uint32_t ifindex, fd = 0;
	if (tc_args(env, info, 1, &ifindex, &fd))
		return NULL;
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);
	/* Most devices have no clsact qdisc: that is an answer (0), not something to log. */
	libbpf_print_fn_t print = libbpf_set_print(NULL);
	int err = bpf_tc_query(&hook, &opts);
	libbpf_set_print(print);
	if (err)
		return make_u32(env, 0);
	return make_u32(env, opts.prog_id);
}

/* A ring buffer reader: records are copied into a JS array by consumeRing. */
struct ring {
	struct ring_buffer *rb;
	napi_env env;
	napi_value array;
	uint32_t count;
	uint32_t limit;
};

static int ring_record(void *ctx, void *data, size_t size)
{
	struct ring *ring = ctx;
	napi_value buf;
	if (napi_create_buffer_copy(ring->env, size, data, NULL, &buf) != napi_ok)
		return -1;
	napi_set_element(ring->env, ring->array, ring->count++, buf);
	/* A positive return stops ring_buffer__consume after this record. */
	return ring->count >= ring->limit ? 1 : 0;
}

static void ring_finalize(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)hint;
	struct ring *ring = data;
	if (ring->rb)
		ring_buffer__free(ring->rb);
	free(ring);
}

/* openRing(mapFd) → handle for consumeRing. */
static napi_value open_ring(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	uint32_t fd;
	if (get_args(env, info, 1, argv) || get_u32(env, argv[0], &fd)) {
		napi_throw_type_error(env, "WEFT_ARGS", "openRing(mapFd)");
		return NULL;
	}
	struct ring *ring = calloc(1, sizeof(*ring));
	ring->rb = ring_buffer__new(fd, ring_record, ring, NULL);
	if (!ring->rb) {
		int err = errno;
		free(ring);
		return throw_errno(env, "ring_buffer__new", err);
	}
	napi_value handle;
	CHECK(napi_create_external(env, ring, ring_finalize, NULL, &handle));
	return handle;
}

/* consumeRing(handle, limit) → Buffer[]: the records waiting now, without blocking. */
static napi_value consume_ring(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	struct ring *ring;
	uint32_t limit;
	if (get_args(env, info, 2, argv) || napi_get_value_external(env, argv[0], (void **)&ring) != napi_ok ||
	    get_u32(env, argv[1], &limit)) {
		napi_throw_type_error(env, "WEFT_ARGS", "consumeRing(handle, limit)");
		return NULL;
	}
	CHECK(napi_create_array(env, &ring->array));
	ring->env = env;
	ring->count = 0;
	ring->limit = limit ? limit : UINT32_MAX;
	int err = ring_buffer__consume(ring->rb);
	if (err < 0)
		return throw_errno(env, "ring_buffer__consume", err);
	return ring->array;
}

static napi_value init(napi_env env, napi_value exports)
{
	libbpf_set_print(libbpf_print);
	napi_property_descriptor props[] = {
		{"openObject", NULL, open_object, NULL, NULL, NULL, napi_default, NULL},
		{"closeObject", NULL, close_object, NULL, NULL, NULL, napi_default, NULL},
		{"mapUpdate", NULL, map_update, NULL, NULL, NULL, napi_default, NULL},
		{"mapDelete", NULL, map_delete, NULL, NULL, NULL, napi_default, NULL},
		{"mapLookup", NULL, map_lookup, NULL, NULL, NULL, napi_default, NULL},
		{"mapDump", NULL, map_dump, NULL, NULL, NULL, napi_default, NULL},
		{"testRun", NULL, test_run, NULL, NULL, NULL, napi_default, NULL},
		{"sendFrames", NULL, send_frames, NULL, NULL, NULL, napi_default, NULL},
		{"possibleCpus", NULL, possible_cpus, NULL, NULL, NULL, napi_default, NULL},
		{"objGet", NULL, obj_get, NULL, NULL, NULL, napi_default, NULL},
		{"objPin", NULL, obj_pin, NULL, NULL, NULL, napi_default, NULL},
		{"closeFd", NULL, close_fd, NULL, NULL, NULL, napi_default, NULL},
		{"programInfo", NULL, program_info, NULL, NULL, NULL, napi_default, NULL},
		{"programInfoById", NULL, program_info_by_id, NULL, NULL, NULL, napi_default, NULL},
		{"mapId", NULL, map_id, NULL, NULL, NULL, napi_default, NULL},
		{"tcAttach", NULL, tc_attach, NULL, NULL, NULL, napi_default, NULL},
		{"tcDetach", NULL, tc_detach, NULL, NULL, NULL, napi_default, NULL},
		{"tcQuery", NULL, tc_query, NULL, NULL, NULL, napi_default, NULL},
		{"openRing", NULL, open_ring, NULL, NULL, NULL, napi_default, NULL},
		{"consumeRing", NULL, consume_ring, NULL, NULL, NULL, napi_default, NULL},
	};
	napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
