/*
 * SOAP faults: one table describes every fault the server can send, one
 * builder turns a table entry (plus optional detail) into an envelope.
 */

#ifndef _NGX_WSMAN_FAULT_H_INCLUDED_
#define _NGX_WSMAN_FAULT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_wsman_xml.h"


typedef enum {
    NGX_WSMAN_FAULT_NONE = 0,
    NGX_WSMAN_FAULT_ACCESS_DENIED,
    NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED,
    NGX_WSMAN_FAULT_ALREADY_EXISTS,
    NGX_WSMAN_FAULT_CANNOT_PROCESS_FILTER,
    NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE,
    NGX_WSMAN_FAULT_ENCODING_LIMIT,
    NGX_WSMAN_FAULT_FILTER_DIALECT_UNAVAILABLE,
    NGX_WSMAN_FAULT_INTERNAL_ERROR,
    NGX_WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT,
    NGX_WSMAN_FAULT_INVALID_HEADER,
    NGX_WSMAN_FAULT_INVALID_OPTIONS,
    NGX_WSMAN_FAULT_INVALID_PARAMETER,
    NGX_WSMAN_FAULT_INVALID_REPRESENTATION,
    NGX_WSMAN_FAULT_INVALID_SELECTORS,
    NGX_WSMAN_FAULT_HEADER_REQUIRED,
    NGX_WSMAN_FAULT_MALFORMED,
    NGX_WSMAN_FAULT_MUST_UNDERSTAND,
    NGX_WSMAN_FAULT_QUOTA_LIMIT,
    NGX_WSMAN_FAULT_SCHEMA_VALIDATION,
    NGX_WSMAN_FAULT_TIMED_OUT,
    NGX_WSMAN_FAULT_UNSUPPORTED_FEATURE,
    NGX_WSMAN_FAULT_VERSION_MISMATCH,
    NGX_WSMAN_FAULT_CONFIG_READONLY,
    NGX_WSMAN_FAULT_LAST
} ngx_wsman_fault_e;


/* one row of the fault table */
typedef struct {
    ngx_wsman_fault_e   id;
    const char         *name;           /* $wsman_fault, logs */
    const char         *code;           /* s:Code/s:Value */
    const char         *subcode;        /* s:Subcode/s:Value, NULL: none */
    const char         *action;         /* a:Action of the fault message */
    const char         *reason;         /* s:Reason/s:Text */
    uint32_t            wsman_code;     /* f:WSManFault/@Code, 0: none */
    ngx_uint_t          status;         /* HTTP status */
} ngx_wsman_fault_def_t;


/* a fault raised while handling one request */
typedef struct {
    ngx_wsman_fault_e   id;
    ngx_str_t           detail;         /* w:FaultDetail URI, optional */
    ngx_str_t           message;        /* f:Message, optional */
} ngx_wsman_fault_t;


#define NGX_WSMAN_FAULT_DETAIL                                              \
    "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/"


const ngx_wsman_fault_def_t *ngx_wsman_fault_def(ngx_wsman_fault_e id);
const ngx_wsman_fault_def_t *ngx_wsman_fault_def_by_name(const u_char *name,
    size_t len);
void ngx_wsman_fault_write(ngx_wsman_xml_t *x, ngx_wsman_fault_t *fault,
    ngx_str_t *relates_to, ngx_str_t *machine);


#endif /* _NGX_WSMAN_FAULT_H_INCLUDED_ */
