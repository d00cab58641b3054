/*
 * libFuzzer target: the configuration parsers. config_parse checks what a
 * user writes into configs/<name> or passes to runfs login; config_load
 * reads the whole config file, which another program may have written.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "slurm_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *conf = NULL;
	char *err = NULL, path[64], *shown;
	int fd;

	if (config_parse((const char *)data, size, &conf, &err) == RF_OK) {
		shown = config_show("fuzz", conf);
		free(shown);
	}
	json_decref(conf);
	free(err);
	conf = NULL;
	err = NULL;
	/* The same bytes as a config file. */
	if ((fd = memfd_create("config", MFD_CLOEXEC)) < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		config_load(path, &conf, &err);
	}
	close(fd);
	json_decref(conf);
	free(err);
	return 0;
}
