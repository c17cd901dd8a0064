{
  # The kernel sources are compiled twice: once for this machine's ISA (-march=native: AVX2/FMA or
  # AVX-512 where present; the addon is built on the user's machine) and once as a portable scalar
  # path; on x64 also once for AVX2/FMA (see "conditions" at the end). The addon links them all and
  # picks one at run time (native by default).
  "variables": {
    "kernel_sources": [
      "src/kernels/table.cpp",
      "src/kernels/conv.cpp",
      "src/kernels/conv_weight.cpp",
      "src/kernels/conv_gemm.cpp",
      "src/kernels/batchnorm.cpp",
      "src/kernels/eltwise.cpp",
      "src/kernels/pool.cpp",
      "src/kernels/linear.cpp",
      "src/kernels/loss.cpp",
      "src/kernels/prune.cpp",
      "src/kernels/sparse_conv.cpp",
      "src/kernels/sparse_linear.cpp",
      "src/kernels/shortcut.cpp",
      "src/kernels/peak.cpp",
      "src/kernels/optim.cpp"
    ],
    "common_cflags": ["-O3", "-std=c++17", "-fopenmp", "-fno-math-errno", "-ffp-contract=fast", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-maybe-uninitialized", "-Wno-uninitialized"]
  },
  "targets": [
    {
      "target_name": "kernels_native",
      "type": "static_library",
      "sources": ["<@(kernel_sources)"],
      "defines": ["LT_NS=isa_native"],
      "cflags_cc": ["<@(common_cflags)", "-march=native", "-fPIC"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"]
    },
    {
      "target_name": "kernels_scalar",
      "type": "static_library",
      "sources": ["<@(kernel_sources)"],
      "defines": ["LT_NS=isa_scalar", "LT_FORCE_SCALAR"],
      "cflags_cc": ["<@(common_cflags)", "-fPIC"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"]
    },
    {
      "target_name": "leantrain",
      "sources": ["src/addon/main.cpp", "src/addon/prune.cpp", "src/addon/sparse_conv.cpp"],
      "dependencies": ["kernels_native", "kernels_scalar"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "LT_NS=isa_native"],
      "cflags_cc": ["-O2", "-std=c++17", "-fopenmp", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "ldflags": ["-fopenmp"],
      "conditions": [
        ["target_arch=='x64'", {"dependencies": ["kernels_avx2"], "defines": ["LT_HAVE_ISA_AVX2"]}]
      ]
    }
  ],
  "conditions": [
    # x64 only: a third copy of the kernels for AVX2/FMA with AVX-512 off, so that code path is
    # built and tested even on AVX-512 machines (setIsa('avx2'); used only if the CPU has AVX2+FMA).
    # It is linked after kernels_native, so inline library code shared by the variants (e.g.
    # std::vector members) resolves to the -march=native copy, never to an AVX2-only one.
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "kernels_avx2",
          "type": "static_library",
          "sources": ["<@(kernel_sources)"],
          "defines": ["LT_NS=isa_avx2"],
          "cflags_cc": ["<@(common_cflags)", "-mavx2", "-mfma", "-mno-avx512f", "-fPIC"],
          "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"]
        }
      ]
    }]
  ]
}
