/*
 * The fault table.  Subcodes use the prefixes the envelope writer declares
 * (a: WS-Addressing, w: WS-Management, n: WS-Enumeration).  Numeric codes
 * are the ones Windows puts in f:WSManFault so clients that key on them
 * (pywinrm, pypsrp: 2150858793 for a timed-out Receive) behave the same.
 */

#include <ngx_http.h>

#include "ngx_wsman_fault.h"
#include "ngx_wsman_soap.h"


#define NGX_WSMAN_FAULT_ACTION_WSMAN                                        \
    "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
#define NGX_WSMAN_FAULT_ACTION_WSA                                          \
    "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault"
#define NGX_WSMAN_FAULT_ACTION_WSEN                                         \
    "http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault"


static const ngx_wsman_fault_def_t  ngx_wsman_faults[] = {

    { NGX_WSMAN_FAULT_NONE, "", "s:Receiver", NULL,
      NGX_WSMAN_FAULT_ACTION_WSMAN, "", 0, NGX_HTTP_INTERNAL_SERVER_ERROR },

    { NGX_WSMAN_FAULT_ACCESS_DENIED, "w:AccessDenied",
      "s:Sender", "w:AccessDenied", NGX_WSMAN_FAULT_ACTION_WSMAN,
      "Access is denied: the caller's rights on this resource do not allow "
      "the operation.", 5, NGX_HTTP_INTERNAL_SERVER_ERROR },

    { NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED, "a:ActionNotSupported",
      "s:Sender", "a:ActionNotSupported", NGX_WSMAN_FAULT_ACTION_WSA,
      "The action is not supported by the service for this resource.",
      2150858753U, NGX_HTTP_INTERNAL_SERVER_ERROR },

    { NGX_WSMAN_FAULT_ALREADY_EXISTS, "w:AlreadyExists",
      "s:Sender", "w:AlreadyExists", NGX_WSMAN_FAULT_ACTION_WSMAN,
      "The resource to be created already exists.",
      2150858803U, NGX_HTTP_INTERNAL_SERVER_ERROR },

    { NGX_WSMAN_FAULT_CANNOT_PROCESS_FILTER, "w:CannotProcessFilter",
      "s:Sender", "w:CannotProcessFilter", NGX_WSMAN_FAULT_ACTION_WSMAN,
      "The filter could not be processed.",
      2150859042U, NGX_HTTP_INTERNAL_SERVER_ERROR },

    { NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE, "a:DestinationUnreachable",
      "s:Sender", "a:DestinationUnreachable", NGX_WSMAN_FAULT_ACTION_WSA,
      "No resource matches the resource URI and selectors of the request.",
      2150858752U, NGX_HTTP_INTERNAL_SERVER_ERROR },

    { NGX_WSMAN_FAULT_ENCODING_LIMIT, "w:EncodingLimit",
      "s:Sender", "w:EncodingLimit", NGX_WSMAN_FAULT_ACTION_WSMAN,
      "The message exceeds a size limit of the service "
      "(MaxEnvelopeSizekb or MaxEnvelopeSize).",
      2150858805U, NGX_HTTP_INTERNAL_SERVER_ERROR },

    { NGX_WSMAN_FAULT_FILTER_DIALECT_UNAVAILABLE,
      "w:FilterDialectRequestedUnavailable",
      "s:Sender", "w:FilterDialectRequestedUnavailable",
      NGX_WSMAN_FAULT_ACTION_WSMAN,
      "The filter dialect is not supported for this resource.",
      2150858777U, NGX_HTTP_INTERNAL_SERVER_ERROR },

    { NGX_WSMAN_FAULT_INTERNAL_ERROR, "w:InternalError",
      "s:Receiver", "w:InternalError", NGX_WSMAN_FAULT_ACTION_WSMAN,
      "The service met an internal error while processing the request.",
      0, NGX_HTTP_INTERNAL_SERVER_ERROR },

    { NGX_WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT,
      "n:InvalidEnumerationContext",
      "s:Receiver", "n:InvalidEnumerationContext",
      NGX_WSMAN_FAULT_ACTION_WSEN,
      "The enumeration context is not valid: it expired, was released, or "
      "belongs to another caller.",
      2150858779U, NGX_HTTP_INTERNAL_SERVER_ERROR },

    { NGX_WSMAN_FAULT_INVALID_HEADER, "a:InvalidMessageInformationHeader",
      "s:Sender", "a:InvalidMessageInformationHeader",
      NGX_WSMAN_FAULT_ACTION_WSA,
      "A message information header of the request is not valid.",
      2150858767U, NGX_HTTP_INTERNAL_SERVER_ERROR },

    { NGX_WSMAN_FAULT_INVALID_OPTIONS, "w:InvalidOptions",
      "s:Sender", "w:InvalidOptions", NGX_WSMAN_FAULT_ACTION_WSMAN,
      "An option of the request is not valid or not supported.",
      2150858809U, NGX_HTTP_INTERNAL_SERVER_ERROR },

    { NGX_WSMAN_FAULT_INVALID_PARAMETER, "w:InvalidParameter",
      "s:Sender", "w:InvalidParameter", NGX_WSMAN_FAULT_ACTION_WSMAN,
      "A parameter of the operation is not valid.",
      2150858810U, NGX_HTTP_INTERNAL_SERVER_ERROR },

    { NGX_WSMAN_FAULT_INVALID_REPRESENTATION, "w:InvalidRepresentation",
      "s:Sender", "w:InvalidRepresentation", NGX_WSMAN_FAULT_ACTION_WSMAN,
      "The representation in the request body is not valid for this "
      "resource.", 2150858773U, NGX_HTTP_INTERNAL_SERVER_ERROR },

    { NGX_WSMAN_FAULT_INVALID_SELECTORS, "w:InvalidSelectors",
      "s:Sender", "w:InvalidSelectors", NGX_WSMAN_FAULT_ACTION_WSMAN,
      "The selectors of the request do not identify a resource instance.",
      2150858843U, NGX_HTTP_INTERNAL_SERVER_ERROR },

    { NGX_WSMAN_FAULT_HEADER_REQUIRED, "a:MessageInformationHeaderRequired",
      "s:Sender", "a:MessageInformationHeaderRequired",
      NGX_WSMAN_FAULT_ACTION_WSA,
      "A required message information header is missing.",
      2150858769U, NGX_HTTP_INTERNAL_SERVER_ERROR },

    { NGX_WSMAN_FAULT_MALFORMED, "s:Sender",
      "s:Sender", NULL, NGX_WSMAN_FAULT_ACTION_WSMAN,
      "The request is not a well-formed SOAP 1.2 message.",
      2150858819U, NGX_HTTP_BAD_REQUEST },

    { NGX_WSMAN_FAULT_MUST_UNDERSTAND, "s:MustUnderstand",
      "s:MustUnderstand", NULL, NGX_WSMAN_FAULT_ACTION_WSA,
      "A header marked mustUnderstand is not understood by the service.",
      2150858768U, NGX_HTTP_INTERNAL_SERVER_ERROR },

    { NGX_WSMAN_FAULT_QUOTA_LIMIT, "w:QuotaLimit",
      "s:Sender", "w:QuotaLimit", NGX_WSMAN_FAULT_ACTION_WSMAN,
      "The request would exceed a quota of the service.",
      2150858815U, NGX_HTTP_INTERNAL_SERVER_ERROR },

    { NGX_WSMAN_FAULT_SCHEMA_VALIDATION, "w:SchemaValidationError",
      "s:Sender", "w:SchemaValidationError", NGX_WSMAN_FAULT_ACTION_WSMAN,
      "The SOAP message does not follow the WS-Management schema.",
      2150858817U, NGX_HTTP_BAD_REQUEST },

    { NGX_WSMAN_FAULT_TIMED_OUT, "w:TimedOut",
      "s:Receiver", "w:TimedOut", NGX_WSMAN_FAULT_ACTION_WSMAN,
      "The WS-Management service cannot complete the operation within the "
      "time specified in OperationTimeout.",
      2150858793U, NGX_HTTP_INTERNAL_SERVER_ERROR },

    { NGX_WSMAN_FAULT_UNSUPPORTED_FEATURE, "w:UnsupportedFeature",
      "s:Sender", "w:UnsupportedFeature", NGX_WSMAN_FAULT_ACTION_WSMAN,
      "The request uses a feature the service does not support.",
      2150858818U, NGX_HTTP_INTERNAL_SERVER_ERROR },

    { NGX_WSMAN_FAULT_VERSION_MISMATCH, "s:VersionMismatch",
      "s:VersionMismatch", NULL, NGX_WSMAN_FAULT_ACTION_WSMAN,
      "Only SOAP 1.2 envelopes are supported.",
      0, NGX_HTTP_BAD_REQUEST },

    { NGX_WSMAN_FAULT_CONFIG_READONLY, "w:UnsupportedFeature",
      "s:Sender", "w:UnsupportedFeature", NGX_WSMAN_FAULT_ACTION_WSMAN,
      "This setting is managed in nginx.conf and cannot be changed over "
      "WS-Management.", 2150859071U, NGX_HTTP_INTERNAL_SERVER_ERROR },
};


const ngx_wsman_fault_def_t *
ngx_wsman_fault_def(ngx_wsman_fault_e id)
{
    if ((ngx_uint_t) id >= NGX_WSMAN_FAULT_LAST) {
        id = NGX_WSMAN_FAULT_INTERNAL_ERROR;
    }

    return &ngx_wsman_faults[id];
}


const ngx_wsman_fault_def_t *
ngx_wsman_fault_def_by_name(const u_char *name, size_t len)
{
    ngx_uint_t  i;

    for (i = 1; i < NGX_WSMAN_FAULT_LAST; i++) {
        if (ngx_strlen(ngx_wsman_faults[i].name) == len
            && ngx_strncmp(ngx_wsman_faults[i].name, name, len) == 0)
        {
            return &ngx_wsman_faults[i];
        }
    }

    return NULL;
}


static void
ngx_wsman_fault_write_cstr(ngx_wsman_xml_t *x, const char *s)
{
    ngx_wsman_xml_raw(x, (const u_char *) s, ngx_strlen(s));
}


void
ngx_wsman_fault_write(ngx_wsman_xml_t *x, ngx_wsman_fault_t *fault,
    ngx_str_t *relates_to, ngx_str_t *machine)
{
    ngx_str_t                     action;
    const ngx_wsman_fault_def_t  *def;

    def = ngx_wsman_fault_def(fault->id);

    action.data = (u_char *) def->action;
    action.len = ngx_strlen(def->action);

    ngx_wsman_soap_write_head(x, &action, relates_to);

    ngx_wsman_xml_literal(x, "<s:Fault><s:Code><s:Value>");
    ngx_wsman_fault_write_cstr(x, def->code);
    ngx_wsman_xml_literal(x, "</s:Value>");

    if (def->subcode) {
        ngx_wsman_xml_literal(x, "<s:Subcode><s:Value>");
        ngx_wsman_fault_write_cstr(x, def->subcode);
        ngx_wsman_xml_literal(x, "</s:Value></s:Subcode>");
    }

    ngx_wsman_xml_literal(x, "</s:Code><s:Reason>"
                          "<s:Text xml:lang=\"en-US\">");
    ngx_wsman_fault_write_cstr(x, def->reason);

    if (fault->message.len) {
        ngx_wsman_xml_literal(x, " ");
        ngx_wsman_xml_text_str(x, &fault->message);
    }

    ngx_wsman_xml_literal(x, "</s:Text></s:Reason><s:Detail>");

    if (fault->detail.len) {
        ngx_wsman_xml_literal(x, "<w:FaultDetail>");
        ngx_wsman_xml_text_str(x, &fault->detail);
        ngx_wsman_xml_literal(x, "</w:FaultDetail>");
    }

    ngx_wsman_xml_literal(x, "<f:WSManFault xmlns:f=\""
                          NGX_WSMAN_NS_FAULT "\"");

    if (def->wsman_code) {
        ngx_wsman_xml_literal(x, " Code=\"");
        ngx_wsman_xml_uint(x, def->wsman_code);
        ngx_wsman_xml_literal(x, "\"");
    }

    if (machine && machine->len) {
        ngx_wsman_xml_literal(x, " Machine=\"");
        ngx_wsman_xml_text_str(x, machine);
        ngx_wsman_xml_literal(x, "\"");
    }

    ngx_wsman_xml_literal(x, "><f:Message>");
    ngx_wsman_fault_write_cstr(x, def->reason);

    if (fault->message.len) {
        ngx_wsman_xml_literal(x, " ");
        ngx_wsman_xml_text_str(x, &fault->message);
    }

    ngx_wsman_xml_literal(x, "</f:Message></f:WSManFault></s:Detail>"
                          "</s:Fault>");

    ngx_wsman_soap_write_tail(x);
}
