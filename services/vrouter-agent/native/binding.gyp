{
  "targets": [
    {
      "target_name": "weft_bpf",
      "sources": ["weft_bpf.c"],
      "cflags": ["-O2", "-Wall", "-Wno-unused-parameter", "-Werror=implicit-function-declaration"],
      "libraries": ["-lbpf"]
    }
  ]
}
