/* Cay: event-loop SIP session server. Umbrella header. */
#ifndef CAY_CAY_H
#define CAY_CAY_H

#include "errno.h"
#include "cdr.h"
#include "config.h"
#include "server.h"
#include "session.h"
#include "supp.h"

#define CAY_VERSION "0.1.0"

#endif
