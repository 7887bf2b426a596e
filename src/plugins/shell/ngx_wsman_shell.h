/*
 * The shell plug-in's configuration: its wsman_shell* directives
 * (ngx_wsman_shell_module.c), read by the worker side through the call
 * (ngx_wsman_call_conf()) and by the master when it starts the host.
 */

#ifndef _NGX_WSMAN_SHELL_H_INCLUDED_
#define _NGX_WSMAN_SHELL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* a location's Winrs settings */
typedef struct {
    ngx_flag_t                 shell;           /* AllowRemoteShellAccess */
    ngx_msec_t                 shell_idle_timeout;
    ngx_uint_t                 shell_max_per_user;
    ngx_uint_t                 shell_max_users;
    ngx_uint_t                 shell_max_processes;
    size_t                     shell_max_memory;
    ngx_msec_t                 shell_max_runtime;
    ngx_str_t                  shell_run_as;
    ngx_flag_t                 shell_allow_root;
    ngx_str_t                  shell_pam;       /* PAM service, "": none */
} ngx_wsman_shell_loc_conf_t;


/* http{} level: the host and the channels of this configuration */
typedef struct {
    ngx_uint_t                 shells;          /* a location allows them */
    ngx_uint_t                 shell_root;      /* one allows root shells */
    int                       *shell_channels;  /* per worker slot, the
                                                   workers' ends; -1: none */
    ngx_uint_t                 nshell_channels;
    size_t                     shell_max_buffered;  /* unread output */
} ngx_wsman_shell_main_conf_t;


extern ngx_module_t  ngx_wsman_shell_module;


#endif /* _NGX_WSMAN_SHELL_H_INCLUDED_ */
