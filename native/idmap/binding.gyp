{
  "targets": [
    {
      "target_name": "idmap",
      "sources": ["src/idmap.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
