import { Module } from '@nestjs/common';
import { IssuersService } from 'src/issuers/issuers.service';

@Module({ exports: [IssuersService], providers: [IssuersService] })
export class IssuersModule {}
