#include "sim/proto/jt808_kinds.h"

#include <stdlib.h>

static const uint16_t kind_msg[JT808_N_KINDS] = {0x8103, 0x8104, 0x8105, 0x8201, 0x8300, 0x8108};
static const uint16_t kind_reply[JT808_N_KINDS] = {0x0001, 0x0104, 0x0001, 0x0201, 0x0001, 0x0001};

const struct proto_kind jt808_kinds[JT808_N_KINDS] = {
    {"0x8103", "0x0001"}, {"0x8104", "0x0104"}, {"0x8105", "0x0001"},
    {"0x8201", "0x0201"}, {"0x8300", "0x0001"}, {"0x8108", "0x0001"},
};

int jt808_kind_index(uint16_t msg_id)
{
    for (int i = 0; i < JT808_N_KINDS; i++)
        if (kind_msg[i] == msg_id)
            return i;
    return -1;
}

uint16_t jt808_kind_msg(int i) { return i >= 0 && i < JT808_N_KINDS ? kind_msg[i] : 0; }
uint16_t jt808_kind_reply(int i) { return i >= 0 && i < JT808_N_KINDS ? kind_reply[i] : 0; }
