// GitHub's CommonMark implementation with its GFM extensions (Debian: libcmark-gfm-dev,
// libcmark-gfm-extensions-dev). Both libraries are linked from module.modulemap as well as through
// pkg-config (libcmark-gfm), so the module also works where the .pc file is missing.
#include <stdlib.h>
#include <cmark-gfm.h>
#include <cmark-gfm-extension_api.h>
#include <cmark-gfm-core-extensions.h>
