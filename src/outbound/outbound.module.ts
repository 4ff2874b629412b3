import { Module } from '@nestjs/common';
import { OutboundHttpService } from 'src/outbound/outbound-http.service';

@Module({ exports: [OutboundHttpService], providers: [OutboundHttpService] })
export class OutboundModule {}
