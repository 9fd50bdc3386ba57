{
  "variables": {
    "openmp%": "true"
  },
  "target_defaults": {
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
    "cflags!": ["-fno-exceptions", "-O2", "-O3"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
    "cflags": ["-O3", "-fPIC", "-fno-math-errno"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "-O3"],
    "conditions": [
      ["openmp=='true' and OS!='mac' and OS!='win'", {
        "cflags": ["-fopenmp"],
        "ldflags": ["-fopenmp"]
      }]
    ]
  },
  "targets": [
    {
      "target_name": "minibatch_avx2",
      "type": "static_library",
      "conditions": [
        ["target_arch=='x64' or target_arch=='ia32'", {
          "sources": ["<!@(node scripts/sources.js avx2)"],
          "cflags": ["-mavx2", "-mfma"]
        }]
      ]
    },
    {
      "target_name": "minibatch_avx512",
      "type": "static_library",
      "conditions": [
        ["target_arch=='x64'", {
          "sources": ["<!@(node scripts/sources.js avx512)"],
          "cflags": ["-mavx512f", "-mavx512vl", "-mavx512dq", "-mavx512bw", "-mfma"]
        }]
      ]
    },
    {
      "target_name": "minibatch",
      "dependencies": ["minibatch_avx2", "minibatch_avx512"],
      "sources": ["<!@(node scripts/sources.js base)"],
      "conditions": [
        ["target_arch=='x64' or target_arch=='ia32'", {
          "defines": ["MB_HAVE_AVX2_TU=1"]
        }],
        ["target_arch=='x64'", {
          "defines": ["MB_HAVE_AVX512_TU=1"]
        }]
      ]
    }
  ]
}
