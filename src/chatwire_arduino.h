/*
 * chatwire_arduino.h - what an Arduino sketch includes: the client, and on
 * the ESP32 core the lwIP sockets transport (cw_lwip) and TLS on the
 * core's mbedTLS (cw_tls), which src/arduino/ compiles from ports/.
 *
 *   #include <chatwire_arduino.h>
 *
 * jsmn 1.1.0's jsmn.h must be a library of its own (a folder jsmn/ with
 * jsmn.h in the sketchbook's libraries/).
 */
#ifndef CHATWIRE_ARDUINO_H
#define CHATWIRE_ARDUINO_H

#include "../include/chatwire.h"
#if defined(ARDUINO_ARCH_ESP32)
#include "../ports/lwip/cw_lwip.h"
#include "../ports/mbedtls/cw_tls.h"
#endif

#endif /* CHATWIRE_ARDUINO_H */
