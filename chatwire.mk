# chatwire.mk - chatwire's source files and include directories for make:
# the same lists as chatwireFilePaths.cmake (tests/manifests/check.py checks that
# they agree, and that every file of src/ is in them).
#
#   include path/to/chatwire/chatwire.mk
#   SRCS += $(CHATWIRE_CORE_SRCS) $(CHATWIRE_JSMN_SRCS)
#   CFLAGS += $(addprefix -I,$(CHATWIRE_CORE_INC))
#
# CHATWIRE_DIR is where this file is, unless set before the include.

CHATWIRE_DIR ?= $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

CHATWIRE_CORE_SRCS := \
	$(CHATWIRE_DIR)/src/core/cw_history.c \
	$(CHATWIRE_DIR)/src/core/cw_http.c \
	$(CHATWIRE_DIR)/src/core/cw_json.c \
	$(CHATWIRE_DIR)/src/core/cw_request.c \
	$(CHATWIRE_DIR)/src/core/cw_retry.c \
	$(CHATWIRE_DIR)/src/core/cw_sse.c \
	$(CHATWIRE_DIR)/src/core/cw_status.c \
	$(CHATWIRE_DIR)/src/core/cw_url.c \
	$(CHATWIRE_DIR)/src/client/cw_client.c \
	$(CHATWIRE_DIR)/src/client/cw_proxy.c
CHATWIRE_JSMN_SRCS := $(CHATWIRE_DIR)/src/core/cw_jsmn.c
CHATWIRE_CORE_INC := $(CHATWIRE_DIR)/include
CHATWIRE_CORE_PRIVATE_INC := $(CHATWIRE_DIR)/src

CHATWIRE_POSIX_SRCS := $(CHATWIRE_DIR)/ports/posix/cw_posix.c
CHATWIRE_POSIX_INC := $(CHATWIRE_DIR)/ports/posix
CHATWIRE_LWIP_SRCS := $(CHATWIRE_DIR)/ports/lwip/cw_lwip.c
CHATWIRE_LWIP_INC := $(CHATWIRE_DIR)/ports/lwip
CHATWIRE_MBEDTLS_SRCS := $(CHATWIRE_DIR)/ports/mbedtls/cw_tls.c
CHATWIRE_MBEDTLS_INC := $(CHATWIRE_DIR)/ports/mbedtls
CHATWIRE_MBEDTLS_MCU_SRCS := $(CHATWIRE_DIR)/ports/mbedtls/mcu/cw_tls_mcu.c
CHATWIRE_MBEDTLS_MCU_INC := $(CHATWIRE_DIR)/ports/mbedtls/mcu

CHATWIRE_PUBLIC_HEADERS := \
	$(CHATWIRE_DIR)/include/chatwire.h \
	$(CHATWIRE_DIR)/include/chatwire_config.h \
	$(CHATWIRE_DIR)/include/chatwire_proxy.h \
	$(CHATWIRE_DIR)/include/chatwire_transport.h
